"""Uploaded CSV files (stores, exchange rates): bytes in, text out, or one error people can act on."""

from __future__ import annotations

from django.utils.translation import gettext as _

from vigencia.core.errors import InvalidInput


def csv_text(data: bytes) -> str:
    """The file's text (UTF-8, a spreadsheet's byte order mark dropped); InvalidInput otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            _("The file is not UTF-8 text (byte %(position)s). Save it as “CSV UTF-8” and try again.")
            % {"position": error.start},
            code="bad_encoding",
        ) from None
