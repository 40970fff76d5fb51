"""ONE way to change the state of anything that has states: a table of rules, the actions it
allows, and one perform sequence (applications, sites and their rectifications, objections).

A domain declares a `Machine`: its table of `Rule`s (action, source state(s), target, roles,
window, checks, guards, effects) and the few things only it knows — how to lock its row, what
facts its rules need, which of an actor's roles fits the object, what its outbox event carries.
The domain keeps its tables, checks, guards and effects; the engine does the rest, the same way
for every domain:

- `allowed_actions` walks the same rows with the same role test and checks as `perform`, so what
  the API offers is what it accepts (the opinion and the guards read the request: they answer
  when the action is taken).
- `perform`, in the caller's transaction (it never commits), in this fixed order:
    1. lock the object's row, then check If-Match against its version (412);
    2. the role (403 forbidden), the state (409 invalid_transition, or the machine's own code),
       the machine's and the rule's checks (facts about the object), the opinion (422), the
       rule's guards and then those other domains registered for the action (the request);
    3. the rule's effects, then the machine's;
    4. the new state and version, ONE history row (`audit.record`), ONE outbox event
       (`events.emit`);
    5. the reactions other domains registered for the action (the award creates the site).
  Other domains register guards and reactions explicitly at start-up (demosites.wiring), never
  by importing a module.

Lock order. Every change takes its locks in this order, so two changes never wait on each other
in a circle:
    the object's row (SELECT … FOR UPDATE on PostgreSQL; on SQLite the transaction already
    holds the database's write lock from its BEGIN IMMEDIATE)
    → the rows the domain's effects lock or update (the quota's conditional UPDATE, the
      inspection, the rectification)
    → the history append
    → the outbox insert.
A batch locks its objects in ascending id order. The engine takes no lock beyond these: no
global lock that every change in the system must pass through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlmodel import Session

from demosites.audit import service as audit
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.core.concurrency import ANY, IfMatch
from demosites.core.errors import DomainError, Forbidden, ValidationFailed
from demosites.events import service as events
from demosites.statemachine.errors import InvalidTransition


class Stateful(Protocol):
    id: int | None
    status: str


class Versioned(Stateful, Protocol):
    version: int
    updated_at: datetime


Obj = TypeVar("Obj", bound=Stateful)
F = TypeVar("F")
P = TypeVar("P")


@dataclass
class Change(Generic[Obj, F, P]):
    """What the checks, guards and effects of one change see; `data` goes into the history row.

    Checks also run for `allowed_actions`, where there is no request: only guards and effects
    read `request`."""

    session: Session
    actor: Actor
    obj: Obj
    facts: F
    rule: Rule[Any]
    role: str
    today: date
    payload: P | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def request(self) -> P:
        if self.payload is None:
            raise RuntimeError("a check read the request (checks run for allowed_actions too)")
        return self.payload


C = TypeVar("C", bound=Change[Any, Any, Any])
Step = Callable[[C], None]
Reaction = Callable[[Session, Actor, Obj], object]


@dataclass(frozen=True)
class Rule(Generic[C]):
    """One row of a table: `action` takes an object from `source` (a state, or a tuple of them)
    to `target`, by one of `roles` (in order of preference when the actor holds several).
    `window` names the period in which the action is open, for the domain's checks to read.
    `checks` look at the object (and run for allowed_actions too), `guards` at the request,
    `effects` change rows; each raises a DomainError to refuse."""

    action: str
    source: str | tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    window: str | None = None
    needs_opinion: bool = False
    checks: tuple[Step[C], ...] = ()
    guards: tuple[Step[C], ...] = ()
    effects: tuple[Step[C], ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else self.source


@dataclass
class Extensions(Generic[Obj, C]):
    """What other domains add to a machine's actions: guards (after the rule's own, before its
    effects) and reactions (after the change is written, in the same transaction)."""

    guards: dict[str, list[Step[C]]] = field(default_factory=dict)
    reactions: dict[str, list[Reaction[Obj]]] = field(default_factory=dict)


@dataclass(eq=False)
class Machine(Generic[Obj, F, C]):
    """A domain's state machine: its table and the few things only the domain knows."""

    object_type: str  # the object in history rows, events and messages: "application"
    rules: tuple[Rule[C], ...]
    lock: Callable[[Session, int], Obj]  # re-reads the row under a lock
    facts: Callable[[Session, Obj, date], F]  # what the rules need besides the row
    context: Callable[..., C]  # the domain's Change, built with Change's fields
    acting_role: Callable[[Actor, tuple[str, ...], Obj, F], str | None]
    event: Callable[[C, str], tuple[dict[str, Any], list[int]]]  # (payload, audience) of a change
    checks: tuple[Step[C], ...] = ()  # every rule's, before the rule's own
    effects: tuple[Step[C], ...] = ()  # every rule's, after the rule's own
    versioned: bool = True  # the row has `version` (checked against If-Match) and `updated_at`
    invalid: type[DomainError] = InvalidTransition  # the refusal of an action in a wrong state
    noun_zh: str = ""  # the object in Chinese messages, where it helps
    extensions: Extensions[Obj, C] = field(default_factory=Extensions)

    def __post_init__(self) -> None:
        self._by_state: dict[tuple[str, str], Rule[C]] = {}
        self._roles: dict[str, tuple[str, ...]] = {}
        for rule in self.rules:
            action = str(rule.action)
            for state in rule.sources:
                if (str(state), action) in self._by_state:
                    raise ValueError(f"two rules for {action} in {state}")
                self._by_state[str(state), action] = rule
            if self._roles.setdefault(action, rule.roles) != rule.roles:
                raise ValueError(f"{action}: one set of roles for the action in every state")

    # ---- the table ----------------------------------------------------------------------------

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self._roles)

    def roles(self, action: str) -> tuple[str, ...]:
        """The roles that may take `action` (in order of preference); 422 for an unknown one."""
        roles = self._roles.get(str(action))
        if roles is None:
            raise ValidationFailed(f"Unknown action {action} / 未知操作")
        return roles

    def rule(self, state: str, action: str) -> Rule[C] | None:
        return self._by_state.get((str(state), str(action)))

    # ---- what other domains add, at start-up -----------------------------------------------

    def add_guard(self, action: str, guard: Step[C]) -> None:
        """Idempotent: registering the same guard again changes nothing."""
        guards = self.extensions.guards.setdefault(self._known(action), [])
        if guard not in guards:
            guards.append(guard)

    def add_reaction(self, action: str, reaction: Reaction[Obj]) -> None:
        """Idempotent: registering the same reaction again changes nothing."""
        reactions = self.extensions.reactions.setdefault(self._known(action), [])
        if reaction not in reactions:
            reactions.append(reaction)

    def _known(self, action: str) -> str:
        if str(action) not in self._roles:
            raise ValueError(f"{self.object_type} has no action {action}")
        return str(action)

    # ---- asking and performing -------------------------------------------------------------

    def allowed_actions(
        self, session: Session, actor: Actor, obj: Obj, facts: F, today: date
    ) -> list[str]:
        """The actions `actor` may take on `obj` now: the role and the checks, as `perform` runs
        them (the opinion and the guards read the request: they answer when it is taken)."""
        out: list[str] = []
        for rule in self.rules:
            action = str(rule.action)
            if obj.status not in rule.sources or action in out:
                continue
            role = self.acting_role(actor, rule.roles, obj, facts)
            if role is None:
                continue
            try:
                self._check(self._context(session, actor, obj, facts, rule, role, today, None))
            except DomainError:
                continue
            out.append(action)
        return out

    def perform(
        self,
        session: Session,
        actor: Actor,
        object_id: int,
        action: str,
        payload: Any,
        *,
        opinion: str | None = None,
        if_match: IfMatch = ANY,
    ) -> Obj:
        """Performs `action` on the object (found by the caller through its data scope) or raises;
        see the module docstring for the sequence."""
        action = str(action)
        roles = self.roles(action)
        obj = self.lock(session, object_id)
        if self.versioned:
            if_match.check(cast(Versioned, obj).version)
        today = clock.today()
        facts = self.facts(session, obj, today)
        role = self.acting_role(actor, roles, obj, facts)
        if role is None:
            raise Forbidden(
                f"{action}: requires role / 需要角色 {' or '.join(roles)} for this {self.object_type}"
            )
        rule = self.rule(obj.status, action)
        if rule is None:
            sources = [str(s) for r in self.rules if str(r.action) == action for s in r.sources]
            raise self.invalid(
                f"{action} needs status {' or '.join(sources)}, the {self.object_type} is "
                f"{obj.status} / {self.noun_zh}当前状态为 {obj.status}，不能{action}"
            )
        ctx = self._context(session, actor, obj, facts, rule, role, today, payload)
        self._check(ctx)
        opinion = (opinion or "").strip() or None
        if rule.needs_opinion and opinion is None:
            raise ValidationFailed(f"{action} needs an opinion / 请填写意见")
        for step in (
            *rule.guards, *self.extensions.guards.get(action, ()), *rule.effects, *self.effects
        ):  # fmt: skip
            step(ctx)
        from_state = obj.status
        obj.status = rule.target
        if self.versioned:
            cast(Versioned, obj).version += 1
            cast(Versioned, obj).updated_at = clock.now()
        session.add(obj)
        session.flush()
        object_id = obj.id or 0
        audit.record(
            session, actor, self.object_type, object_id, action, from_state=from_state,
            to_state=obj.status, role=role, opinion=opinion, data=ctx.data or None,
        )  # fmt: skip
        body, audience = self.event(ctx, from_state)
        happened = obj.status if obj.status != from_state else action
        events.emit(
            session, f"{self.object_type}.{happened}", self.object_type, object_id, body,
            organization_ids=audience,
        )  # fmt: skip
        for react in self.extensions.reactions.get(action, ()):
            react(session, actor, obj)
        return obj

    def _context(
        self,
        session: Session,
        actor: Actor,
        obj: Obj,
        facts: F,
        rule: Rule[C],
        role: str,
        today: date,
        payload: Any,
    ) -> C:
        return self.context(
            session=session, actor=actor, obj=obj, facts=facts, rule=rule, role=role,
            today=today, payload=payload,
        )  # fmt: skip

    def _check(self, ctx: C) -> None:
        for check in (*self.checks, *ctx.rule.checks):
            check(ctx)
