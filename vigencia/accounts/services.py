"""Account writes: registration, profile, API tokens, language preference."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from importlib.resources import files
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from vigencia.accounts import roles
from vigencia.accounts.models import CALENDAR_KEY_MAX_LENGTH, ApiToken, Language, User
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.core.phones import mobile_normalize

TOKEN_PREFIX = "vg_"


def axes_username(request: Any, credentials: dict[str, Any] | None = None) -> str:
    """The key django-axes counts failures under: the email, case-folded."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        value = request.POST.get("username") or request.POST.get("email")
    return (value or "").strip().lower()


def user_register(
    *, email: str, password: str, name: str = "", language: str = Language.EN, role: str = roles.SUBSCRIBER
) -> User:
    """Create a subscriber (or another role). Raises InvalidInput or Conflict; writes nothing then."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid email address."), code="invalid_email", details={"field": "email"}
        )
    language = _check_language(language)
    candidate = User(email=email, name=name)
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as error:
        raise InvalidInput(
            _("The password is too weak."), code="weak_password", details={"password": list(error.messages)}
        )
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name, language=language)
            user.groups.add(Group.objects.get_or_create(name=role)[0])
    except IntegrityError:
        raise Conflict(_("An account with this email already exists."), code="email_taken")
    return user


def _check_language(language: str) -> str:
    """The language in its stored form (`ZH-Hans` → `zh-hans`), or InvalidInput."""
    canonical = Language.canonical(language)
    if canonical is None:
        raise InvalidInput(
            _("Unsupported language."),
            code="invalid_language",
            details={"field": "language", "allowed": Language.values},
        )
    return canonical


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_issue(*, user: User, name: str = "api") -> tuple[ApiToken, str]:
    """Issue a bearer token; returns the row and the token itself, which is never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=token[:10],
        digest=_digest(token),
        expires_at=clock.now() + settings.VIGENCIA_API_TOKEN_TTL,
    )
    return row, token


def api_token_authenticate(*, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    now = clock.now()
    try:  # the digest is unique: get() needs no ORDER BY
        row = ApiToken.objects.select_related("user").get(
            digest=_digest(token), revoked_at__isnull=True, user__is_active=True
        )
    except ApiToken.DoesNotExist:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    # One cheap write per request at most once a minute keeps "last used" useful without churn.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def api_token_revoke(*, user: User, token_id: int) -> None:
    ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=clock.now())


def api_token_revoke_presented(*, token: str) -> bool:
    """Revoke the token itself (log out of the API). Idempotent; True if it was live until now."""
    updated = ApiToken.objects.filter(digest=_digest(token), revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    return updated == 1


def user_profile_update(
    *,
    user: User,
    name: str | None = None,
    phone: str | None = None,
    language: str | None = None,
    timezone: str | None = None,
) -> User:
    """Change what is given of the user's name, contact mobile (any country's, stored in E.164; ""
    removes it), language and timezone (an IANA name: reminders keep quiet at night there). Validates
    everything first (InvalidInput, nothing written); saving the same values again changes nothing."""
    changes: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        if len(name) > User._meta.get_field("name").max_length:  # type: ignore[operator]
            raise InvalidInput(_("The name is too long."), code="invalid_name", details={"field": "name"})
        changes["name"] = name
    if phone is not None:
        changes["phone"] = (
            mobile_normalize(phone, region=settings.VIGENCIA_PHONE_REGION) if phone.strip() else ""
        )
    if language is not None:
        changes["language"] = _check_language(language)
    if timezone is not None:
        if timezone != user.timezone and timezone not in timezone_choices():
            raise InvalidInput(
                _("%(value)s is not a timezone to choose: pick a place from the list, such as America/Lima.")
                % {"value": timezone},
                code="invalid_timezone",
                details={"field": "timezone"},
            )
        changes["timezone"] = timezone
    changed = {field: value for field, value in changes.items() if getattr(user, field) != value}
    if changed:
        User.objects.filter(pk=user.pk).update(**changed)
        for field, value in changed.items():
            setattr(user, field, value)
    return user


@cache
def timezone_choices() -> list[str]:
    """The timezones people choose from: UTC, then the IANA zones of the world's places (zone.tab of
    the tz database: one canonical name per region, such as America/Lima or Asia/Kolkata), never a
    deprecated alias (US/Pacific, Asia/Calcutta), a fixed offset (Etc/GMT+5) or a file of the
    database (posixrules). A person whose account holds another value keeps it until they change it."""
    table = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    zones = {row.split("\t")[2] for row in table.splitlines() if row and not row.startswith("#")}
    return ["UTC", *sorted(zones)]


def password_reset_claim(*, user: User) -> bool:
    """Whether a password-reset email may go to `user` now: True at most once per
    settings.PASSWORD_RESET_EVERY, however many requests arrive at once (a conditional update)."""
    now = clock.now()
    claimed = (
        User.objects.filter(pk=user.pk)
        .filter(
            Q(password_reset_sent_at__isnull=True)
            | Q(password_reset_sent_at__lte=now - settings.PASSWORD_RESET_EVERY)
        )
        .update(password_reset_sent_at=now)
    )
    return claimed == 1


def calendar_key_renew(*, user: User) -> str:
    """Turn the person's deadline calendar on, or give it a new secret address: the old address stops
    working at once (for an address that was shared or leaked)."""
    key = secrets.token_urlsafe(24)
    User.objects.filter(pk=user.pk).update(calendar_key=key)
    user.calendar_key = key
    return key


def calendar_key_remove(*, user: User) -> None:
    """Turn the deadline calendar off: its address stops working."""
    User.objects.filter(pk=user.pk).update(calendar_key="")
    user.calendar_key = ""


def calendar_url(user: User) -> str:
    """The address of the person's deadline calendar ("" while it is off)."""
    if not user.calendar_key:
        return ""
    return settings.SITE_URL.rstrip("/") + reverse("lines:calendar", args=[user.calendar_key])


def user_by_calendar_key(*, key: str) -> User | None:
    """The active person whose deadline calendar is at `key`, if any."""
    if not key or len(key) > CALENDAR_KEY_MAX_LENGTH or not key.isprintable():
        return None
    return User.objects.filter(calendar_key=key, is_active=True).first()


def user_erase(*, user: User) -> bool:
    """The last step of closing an account (`support.services.account_close` does the rest first):
    the personal data goes (name, phone; the email becomes a placeholder, so the address may sign up
    again), the password becomes unusable (every session of the account ends), the API tokens are
    revoked and the account is deactivated. What the account did stays, for the records the law and
    the books need. Idempotent: False if it was erased already."""
    with transaction.atomic():
        erased = User.objects.filter(pk=user.pk, is_active=True).update(
            email=f"closed-{user.pk}@closed.invalid",
            name="",
            phone="",
            password=make_password(None),
            is_active=False,
            password_reset_sent_at=None,
            calendar_key="",
        )
        ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    user.refresh_from_db()
    return erased == 1


def user_set_language(*, user: User, language: str) -> None:
    """The language switch: a code it does not support is ignored."""
    language = Language.canonical(language) or ""
    if language and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
