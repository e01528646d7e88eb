"""FX rates for showing approximate amounts (CNY, USD) next to prices charged in the plan's currency.

Nothing is ever charged in a converted currency: every converted amount is labelled approximate.
Rates are operator-maintained in the admin or imported from CSV (`vigencia fx_import rates.csv`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from vigencia.catalog.models import FxRate
from vigencia.core.csvtext import csv_text
from vigencia.core.errors import InvalidInput
from vigencia.core.money import CURRENCIES, Money

APPROX_CURRENCIES = ("USD", "CNY")
CSV_COLUMNS = ("base", "quote", "rate", "as_of")
MAX_IMPORT_ROWS = 10_000


def fx_rate_latest(*, base: str, quote: str) -> Decimal | None:
    """The newest rate from `base` to `quote` (1 when they are the same), or None when none is known."""
    if base == quote:
        return Decimal(1)
    return (
        FxRate.objects.filter(base=base, quote=quote)
        .order_by("-as_of")
        .values_list("rate", flat=True)
        .first()
    )


def money_approx(money: Money, *, currency: str) -> Money | None:
    """`money` converted at the newest rate, rounded half up to `currency`'s minor unit; None if no rate."""
    rate = fx_rate_latest(base=money.currency, quote=currency)
    if rate is None:
        return None
    converted = (money.decimal * rate).quantize(
        Decimal(1).scaleb(-get_currency_precision(currency)), rounding=ROUND_HALF_UP
    )
    return Money.from_decimal(converted, currency)


def money_order(currencies: Iterable[str], *, pivot: str = "USD") -> Callable[[Money | None], tuple]:
    """A sort key that orders amounts of `currencies` by their worth in `pivot` at the newest rates
    (one query per currency): S/ 30 comes after HK$ 100. A currency with no rate sorts after those with
    one, by its own amounts; None (no amount) sorts last."""
    rates = {currency: fx_rate_latest(base=currency, quote=pivot) for currency in set(currencies)}

    def key(money: Money | None) -> tuple:
        if money is None:
            return (2, "", Decimal(0))
        rate = rates.get(money.currency)
        if rate is None:
            return (1, money.currency, money.decimal)
        return (0, "", money.decimal * rate)

    return key


def approx_currency_for(language: str | None = None) -> str:
    """The currency a viewer most likely thinks in: CNY for Chinese, else USD."""
    language = (language or translation.get_language() or "en").lower()
    return "CNY" if language.startswith("zh") else "USD"


def money_approx_label(money: Money, *, currency: str | None = None, language: str | None = None) -> str:
    """E.g. "≈ US$ 2.70 (approx.)", formatted with Babel for the viewer's language; "" if no rate or the
    price is already in that currency."""
    currency = currency or approx_currency_for(language)
    if currency == money.currency:
        return ""
    converted = money_approx(money, currency=currency)
    if converted is None:
        return ""
    with translation.override(language or translation.get_language()):
        return _("≈ %(amount)s (approx.)") % {"amount": converted.format(language)}


def _currency(value: str, line: int, column: str) -> str:
    value = (value or "").strip().upper()
    if value not in CURRENCIES:
        raise InvalidInput(
            _("Line %(line)d: %(column)s is not a currency code.") % {"line": line, "column": column},
            code="invalid_fx_csv",
            details={"line": line, "column": column},
        )
    return value


def fx_rate_set(*, base: str, quote: str, rate: Decimal, as_of: date, source: str = "") -> FxRate:
    """Create or replace the rate of one pair on one day (idempotent)."""
    row, _created = FxRate.objects.update_or_create(
        base=base, quote=quote, as_of=as_of, defaults={"rate": rate, "source": source[:60]}
    )
    return row


def fx_rates_import(*, data: bytes, source: str = "csv") -> int:
    """Import rates from a UTF-8 CSV file with a header `base,quote,rate,as_of` (ISO date). All rows
    or none: a file that is not UTF-8, or any bad row, raises InvalidInput (naming the line) and
    nothing is written. Returns rows imported."""
    reader = csv.DictReader(io.StringIO(csv_text(data)))
    if reader.fieldnames is None or not set(CSV_COLUMNS) <= {name.strip() for name in reader.fieldnames}:
        raise InvalidInput(
            _("The CSV needs the columns base, quote, rate, as_of."),
            code="invalid_fx_csv",
            details={"line": 1},
        )
    rows = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_IMPORT_ROWS + 1:
            raise InvalidInput(_("Too many rows."), code="invalid_fx_csv", details={"line": number})
        row = {key.strip(): (value or "").strip() for key, value in raw.items() if key}
        base, quote = _currency(row["base"], number, "base"), _currency(row["quote"], number, "quote")
        try:
            rate = Decimal(row["rate"])
            as_of = date.fromisoformat(row["as_of"])
        except (InvalidOperation, ValueError):
            raise InvalidInput(
                _("Line %(line)d: the rate or the date is not valid.") % {"line": number},
                code="invalid_fx_csv",
                details={"line": number},
            ) from None
        if (
            not rate.is_finite()
            or rate <= 0
            or rate != rate.quantize(Decimal("1e-8"))
            or rate >= Decimal("1e10")
        ):
            raise InvalidInput(
                _("Line %(line)d: the rate must be positive with at most 8 decimals.") % {"line": number},
                code="invalid_fx_csv",
                details={"line": number},
            )
        rows.append((base, quote, rate, as_of))
    with transaction.atomic():
        for base, quote, rate, as_of in rows:
            fx_rate_set(base=base, quote=quote, rate=rate, as_of=as_of, source=source)
    return len(rows)
