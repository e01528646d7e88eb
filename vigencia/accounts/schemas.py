"""Request and response bodies of /api/v1/auth."""

from __future__ import annotations

from ninja import Field, Schema

from vigencia.core.schemas import Text


class RegisterIn(Schema):
    email: Text = Field(max_length=254)
    password: Text = Field(max_length=1024)
    name: Text = Field("", max_length=150)
    language: Text | None = Field(
        None,
        max_length=7,
        description="en, es or zh-hans (any letter case, zh-CN too); by default the request's language.",
    )


class RegisterOut(Schema):
    id: int
    email: str


class TokenIn(Schema):
    email: Text = Field(max_length=254)
    password: Text = Field(max_length=1024)


class TokenOut(Schema):
    token: str = Field(description="Send it as `Authorization: Bearer <token>`. Shown once.")
    expires_at: str | None = None


class MeOut(Schema):
    id: int
    email: str
    name: str
    phone: str = Field(description="The mobile number SMS reminders go to, in E.164; empty if none.")
    language: str
    timezone: str = Field(description="IANA timezone: dates and quiet hours follow it.")
    calendar_url: str = Field(
        description="The secret address of your lines' deadline calendar (iCalendar) for a calendar "
        "app to subscribe to; empty while it is off."
    )


class MeIn(Schema):
    """Only the fields sent change."""

    name: Text | None = Field(None, max_length=150)
    phone: Text | None = Field(
        None,
        max_length=32,
        description='A mobile number; national for Peru, or with + and the country code; "" removes it.',
    )
    language: Text | None = Field(
        None, max_length=7, description="en, es or zh-hans (any letter case; zh-CN, es-PE too)."
    )
    timezone: Text | None = Field(None, max_length=64, description="An IANA timezone such as Asia/Shanghai.")
