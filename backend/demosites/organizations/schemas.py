"""API shapes of organisations and users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from demosites.organizations.models import CITIES, OrgKind, Role


def _known_city(value: str) -> str:
    if value not in CITIES:
        raise ValueError("must be one of the 16 cities of Anhui / 须为安徽省16市之一")
    return value


# One of the 16 cities (安徽省16市), validated as the document's enum says.
City = Annotated[str, AfterValidator(_known_city), Field(json_schema_extra={"enum": list(CITIES)})]

CityName = str


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str = Field(examples=["合肥市委宣传部"])
    kind: OrgKind
    city: str | None = Field(default=None, examples=["合肥"])
    is_member_unit: bool
    is_recommender: bool


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(
        min_length=2, max_length=64, pattern=r"^[a-z0-9_\-]+$", examples=["hefei_school_1"]
    )
    name: str = Field(min_length=2, max_length=200, examples=["合肥市第一中学"])
    kind: OrgKind = Field(examples=["applicant_unit"])
    city: City | None = Field(default=None, examples=["合肥"])
    is_member_unit: bool = False
    is_recommender: bool = False


class OrganizationPage(BaseModel):
    items: list[OrganizationRead]
    total: int


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    organization_id: int
    organization_name: str = Field(examples=["合肥市委宣传部"])
    roles: list[Role]
    is_active: bool
    created_at: datetime
    phone_masked: str | None = Field(
        default=None,
        examples=["138****1234"],
        description="GET /users/{id}/contact shows it whole (audited)",
    )


class UserContact(BaseModel):
    """Personal data shown whole (个人信息); every viewing is written to the security audit."""

    id: int
    username: str
    display_name: str
    phone: str | None = Field(default=None, examples=["13812341234"])


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(
        min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", examples=["hefei_li"]
    )
    display_name: str = Field(min_length=1, max_length=100, examples=["李明"])
    password: str = Field(
        min_length=1,
        max_length=128,
        examples=["Change-me-2026!"],
        description="Checked against the password policy (weak_password names the broken rules); "
        "the user must change it at first login",
    )
    organization_id: int = Field(ge=1, le=2**31 - 1)
    roles: list[Role] = Field(
        max_length=10,
        examples=[["recommender"]],
        description="Business roles; administrator roles are granted by the secadmin (PUT /security/users/{id}/roles)",
    )
    phone: str | None = Field(
        default=None, pattern=r"^\+?[0-9][0-9\- ]{4,30}$", examples=["13812341234"]
    )


class UserPage(BaseModel):
    items: list[UserRead]
    total: int


class MeOrganization(BaseModel):
    id: int
    code: str
    name: str
    kind: OrgKind
    city: str | None


class Me(BaseModel):
    id: int
    username: str = Field(examples=["hefei"])
    display_name: str = Field(examples=["合肥市委宣传部 演示账号"])
    roles: list[str] = Field(examples=[["recommender"]])
    organization: MeOrganization
    restriction: Literal["password_change", "mfa_enrolment"] | None = Field(
        default=None,
        description="Set while the session may only change the password / enrol TOTP (then other calls answer 403)",
    )
