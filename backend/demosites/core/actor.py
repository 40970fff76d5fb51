"""Who is acting: a person with roles, or a service account with scopes, for an organisation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    display_name: str
    organization_id: int
    organization_name: str
    organization_city: str | None
    roles: frozenset[str]
    kind: str = "user"  # "user" | "service"
    scopes: frozenset[str] | None = None  # None: a person, limited by roles only
    session_id: str | None = None
    service_account_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def role_for(self, *roles: str) -> str | None:
        """The first of `roles` this actor holds (recorded in history as the role acted in)."""
        for r in roles:
            if r in self.roles:
                return r
        return None

    def allows_scope(self, scope: str) -> bool:
        if self.scopes is None:
            return True
        resource, _, level = scope.partition(":")
        return scope in self.scopes or (level == "read" and f"{resource}:write" in self.scopes)


SYSTEM = Actor(
    user_id=None,
    username="system",
    display_name="系统 / system",
    organization_id=0,
    organization_name="系统",
    organization_city=None,
    roles=frozenset({"system"}),
    kind="system",
)
