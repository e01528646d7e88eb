"""Account writes: registration, API tokens, language preference."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vigencia.accounts import roles
from vigencia.accounts.models import ApiToken, Language, User
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput

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
    if language not in Language.values:
        raise InvalidInput(
            _("Unsupported language."), code="invalid_language", details={"allowed": Language.values}
        )
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


def user_set_language(*, user: User, language: str) -> None:
    if language in Language.values and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
