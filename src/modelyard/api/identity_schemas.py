"""Wire schemas (pydantic) for users, service accounts, tokens, teams and sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.api.schemas import Text
from modelyard.domain.accounts import ApiToken, Identity, Member, User

RoleName = Annotated[
    Text, Field(max_length=32, description="viewer, contributor, maintainer or admin")
]
Password = Field(min_length=1, max_length=1024)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    name: Text = Field(max_length=200)
    password: str = Password


class UserCreate(_In):
    name: Text = Field(max_length=200, examples=["ann"])
    password: str | None = Field(None, min_length=1, max_length=1024)
    display_name: Text = Field("", max_length=200)
    email: Text = Field("", max_length=320)
    admin: bool = False


class UserUpdate(_In):
    display_name: Text | None = Field(None, max_length=200)
    email: Text | None = Field(None, max_length=320)


class PasswordChange(_In):
    password: str = Password
    current_password: str | None = Field(None, max_length=1024)


class AdminFlag(_In):
    admin: bool


class ServiceAccountCreate(_In):
    name: Text = Field(max_length=200, examples=["fraud-ci"])
    namespace: Text = Field(max_length=200, description="The team that owns and manages it")
    role: RoleName = "contributor"
    display_name: Text = Field("", max_length=200)


class UserOut(BaseModel):
    name: str
    kind: str
    display_name: str
    email: str
    admin: bool
    disabled: bool
    owner_namespace: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(**user.__dict__)


class TokenCreate(_In):
    name: Text = Field(max_length=200, examples=["laptop"])
    scopes: list[Text] = Field(
        default_factory=list,
        max_length=100,
        description="ACTION:* | ACTION:namespace | ACTION:namespace/model; none: full rights",
        examples=[["read:*", "write:risk-team/fraud"]],
    )
    expires_at: datetime | None = None
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: str
    name: str
    user: str
    hint: str = Field(description="First 8 and last 4 characters, to recognise the token")
    scopes: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, t: ApiToken) -> TokenOut:
        fields = {k: v for k, v in t.__dict__.items() if k not in ("prefix", "last_four")}
        return cls(hint=t.hint, **fields)


class IssuedTokenOut(TokenOut):
    token: str = Field(description="The token itself: shown this once, never again")


class MemberIn(_In):
    role: RoleName


class MemberOut(BaseModel):
    namespace: str
    user: str
    kind: str
    role: str
    capacities: list[str]

    @classmethod
    def of(cls, m: Member) -> MemberOut:
        return cls(**m.__dict__)


class VisibilityIn(_In):
    visibility: Literal["private", "internal"]


class IdentityOut(BaseModel):
    user: UserOut
    via: str = Field(description="token or session")
    token: TokenOut | None
    memberships: list[MemberOut]
    csrf_token: str | None = Field(
        None, description="For a web session: send it back in X-CSRF-Token on changes"
    )

    @classmethod
    def of(cls, me: Identity, csrf_token: str | None = None) -> IdentityOut:
        return cls(
            user=UserOut.of(me.user),
            via=me.via,
            token=TokenOut.of(me.token) if me.token else None,
            memberships=[MemberOut.of(m) for m in me.memberships],
            csrf_token=csrf_token,
        )


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="Send it back in X-CSRF-Token (or form field csrf_token)")


class CapacitiesOut(BaseModel):
    capacities: list[str]
