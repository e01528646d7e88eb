"""Form helpers shared by the portal's apps."""

from __future__ import annotations

from django import forms

from vigencia.core.errors import DomainError


def form_add_domain_error(
    form: forms.Form, error: DomainError, *, fields: dict[str, str] | None = None
) -> None:
    """Show a service's domain error on the form: on the field it names in `details["field"]` (renamed
    through `fields` where the form calls it otherwise), else above the form."""
    details = error.details if isinstance(error.details, dict) else {}
    field = details.get("field")
    field = (fields or {}).get(field, field) if isinstance(field, str) else None
    form.add_error(field if field in form.fields else None, str(error.message))
