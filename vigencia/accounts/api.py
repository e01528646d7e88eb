"""/api/v1/auth: sign up, bearer tokens in exchange for an email and password, and the caller's own
account (`/me`)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router, Status

from vigencia.accounts.auth import api_user, bearer
from vigencia.accounts.models import Language, User
from vigencia.accounts.schemas import MeIn, MeOut, RegisterIn, RegisterOut, TokenIn, TokenOut
from vigencia.accounts.services import (
    api_token_issue,
    api_token_revoke_presented,
    calendar_key_remove,
    calendar_key_renew,
    calendar_url,
    user_profile_update,
    user_register,
)
from vigencia.core.errors import DomainError
from vigencia.core.schemas import ErrorOut

router = Router(tags=["accounts"])


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


@router.post(
    "/register",
    response={201: RegisterOut, 409: ErrorOut, 422: ErrorOut},
    summary="Create a subscriber account",
    description=(
        "422 `invalid_email`, `weak_password`, `invalid_language` or `invalid` (malformed body); "
        "409 `email_taken`. Nothing is written on an error."
    ),
)
def register(request: HttpRequest, payload: RegisterIn) -> Status[RegisterOut]:
    language = payload.language
    if language is None:
        language = Language.canonical(get_language() or "") or Language.EN
    user = user_register(email=payload.email, password=payload.password, name=payload.name, language=language)
    return Status(201, RegisterOut(id=user.pk, email=user.email))


@router.post(
    "/token",
    response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Exchange an email and password for a bearer token",
    description=(
        "401 `invalid_credentials` for a wrong password and an unknown email alike (it never tells "
        "whether an email is registered); after 5 failures for one email from one address, 429 "
        "`rate_limited` for 15 minutes."
    ),
)
def token_create(request: HttpRequest, payload: TokenIn) -> TokenOut:
    # Through authenticate() so that django-axes counts failures; its middleware then answers 429.
    user = authenticate(request, username=payload.email.strip(), password=payload.password)
    if user is None:
        raise InvalidCredentials(_("The email or the password is wrong."))
    row, token = api_token_issue(user=user)
    return TokenOut(token=token, expires_at=row.expires_at.isoformat() if row.expires_at else None)


@router.delete(
    "/token",
    auth=bearer,
    response={204: None, 401: ErrorOut},
    summary="Revoke the token this request is sent with",
)
def token_revoke(request: HttpRequest) -> Status[None]:
    _scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    api_token_revoke_presented(token=token.strip())
    return Status(204, None)


def _me(user: User) -> MeOut:
    return MeOut(
        id=user.pk,
        email=user.email,
        name=user.name,
        phone=user.phone,
        language=user.language,
        timezone=user.timezone,
        calendar_url=calendar_url(user),
    )


@router.get("/me", auth=bearer, response={200: MeOut, 401: ErrorOut}, summary="Your account")
def me_get(request: HttpRequest) -> MeOut:
    return _me(api_user(request))


@router.patch(
    "/me",
    auth=bearer,
    response={200: MeOut, 401: ErrorOut, 422: ErrorOut},
    summary="Change your name, SMS number, language or timezone",
    description=(
        "Only the fields sent change. 422 `invalid_phone` (not a mobile number), `invalid_language`, "
        "`invalid_timezone` (not an IANA timezone) or `invalid` (malformed body); nothing is written "
        "on an error."
    ),
)
def me_update(request: HttpRequest, payload: MeIn) -> MeOut:
    user = user_profile_update(user=api_user(request), **payload.model_dump(exclude_unset=True))
    return _me(user)


@router.post(
    "/me/calendar",
    auth=bearer,
    response={200: MeOut, 401: ErrorOut},
    summary="Turn your deadline calendar on, or give it a new address",
    description="The answer's `calendar_url` is the new address; an address given before stops working.",
)
def me_calendar_renew(request: HttpRequest) -> MeOut:
    user = api_user(request)
    calendar_key_renew(user=user)
    return _me(user)


@router.delete(
    "/me/calendar",
    auth=bearer,
    response={200: MeOut, 401: ErrorOut},
    summary="Turn your deadline calendar off",
    description="Its address stops working; `calendar_url` is empty.",
)
def me_calendar_remove(request: HttpRequest) -> MeOut:
    user = api_user(request)
    calendar_key_remove(user=user)
    return _me(user)
