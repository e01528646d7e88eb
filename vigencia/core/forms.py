"""Form helpers shared by the portal's apps."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from vigencia.core.errors import DomainError
from vigencia.core.idempotency import idempotent

# Django translates the suffix it puts after a form label (":"), but its Chinese catalog keeps the
# ASCII colon; the project's catalogs come first, so this entry gives Chinese its full-width "：".
# Translators: the suffix after a form field's label.
LABEL_SUFFIX = gettext_noop(":")


def form_add_domain_error(
    form: forms.Form, error: DomainError, *, fields: dict[str, str] | None = None
) -> None:
    """Show a service's domain error on the form: on the field it names in `details["field"]` (renamed
    through `fields` where the form calls it otherwise), else above the form."""
    details = error.details if isinstance(error.details, dict) else {}
    field = details.get("field")
    field = (fields or {}).get(field, field) if isinstance(field, str) else None
    form.add_error(field if field in form.fields else None, str(error.message))


_EXPIRED = gettext_lazy("This page has expired. Check your choices and send it again.")


class OncePerPageForm(forms.Form):
    """A form that buys or creates something: one key per rendered form, so a double tap or a
    resubmitted page never does it twice (see form_submit_once)."""

    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput, error_messages={"required": _EXPIRED, "invalid": _EXPIRED}
    )

    def fresh_key(self) -> None:
        """Give the re-rendered form a new key (the old one is missing, broken or used)."""
        self.data = {**self.data, "idempotency_key": str(uuid.uuid4())}


def form_submit_once(
    form: OncePerPageForm,
    request: HttpRequest,
    *,
    scope: str,
    payload: dict[str, Any],
    action: Callable[[], tuple[int, dict[str, Any]]],
) -> dict[str, Any] | None:
    """Run `action` once per rendered form (its hidden key): a double tap or a resubmitted page
    replays the first answer instead of doing it twice. Returns the action's body, or None with the
    domain error on the form (nothing was written: the key's record rolls back with it)."""
    user: Any = request.user
    try:
        _status, body = idempotent(
            owner_id=user.pk,
            key=str(form.cleaned_data["idempotency_key"]),
            scope=scope,
            payload=payload,
            action=action,
        )
    except DomainError as error:
        if error.code == "idempotency_key_reused":
            # The page was sent before with other choices (the back button): start a fresh form.
            form.fresh_key()
            form.add_error(
                None, _("This page was already sent with other choices. Check them and try again.")
            )
        else:
            form.add_error(None, str(error.message))
            form.error_code = error.code  # type: ignore[attr-defined]
        return None
    return body
