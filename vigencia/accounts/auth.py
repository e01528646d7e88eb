"""API authentication: `Authorization: Bearer <token>`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import translation
from ninja.security import HttpBearer

from vigencia.accounts.models import User
from vigencia.accounts.services import api_token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(token=token)
        if user is not None:
            request.user = user
            if "HTTP_ACCEPT_LANGUAGE" not in request.META and user.language:
                # A client that names no language is answered in the one the user chose.
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        return user


bearer = BearerToken()


def api_user(request: Any) -> User:
    """The authenticated user of an API request (after `bearer` ran)."""
    user: User = request.auth
    return user
