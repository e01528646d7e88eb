"""Form helpers shared by the portal's apps."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_noop

from vigencia.core.errors import DomainError

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
