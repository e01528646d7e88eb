"""Money: integer minor units plus an ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_decimal, get_currency_precision, get_currency_symbol, list_currencies
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# Babel's locale for a UI language; Peru's conventions for Spanish (S/ 10.00).
_BABEL_LOCALES = {"es": "es_PE", "en": "en_US", "zh-hans": "zh_Hans_CN"}
# A price is shown with the symbol people use where the currency lives (S/ for PEN in every
# language), and digits grouped the reader's way.
_HOME_LOCALES = {"PEN": "es_PE", "CNY": "zh_Hans_CN", "GBP": "en_GB", "HKD": "en_HK", "USD": "en_US"}


def babel_locale(language: str | None = None) -> str:
    """Babel's locale for a UI language (the active one by default): es_PE, en_US or zh_Hans_CN."""
    language = (language or translation.get_language() or "en").lower()
    return _BABEL_LOCALES.get(language, _BABEL_LOCALES.get(language.split("-")[0], "en_US"))


def currency_symbol(currency: str, locale: str = "en_US") -> str:
    """The symbol people use where the currency lives (S/ for PEN), else the one of `locale`."""
    return get_currency_symbol(currency, _HOME_LOCALES.get(currency, locale))


# Every ISO 4217 code CLDR knows (current and historic): "XYZ" is three letters but no currency.
CURRENCIES = frozenset(list_currencies())


def validate_currency(value: str) -> None:
    """A model field's validator: the value is an ISO 4217 code, upper case (what `Money` takes)."""
    if value not in CURRENCIES:
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code (e.g. PEN)."),
            code="invalid",
            params={"value": value},
        )


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("Money.amount_minor must be an int")
        if self.currency not in CURRENCIES:
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: Decimal | str, currency: str) -> Money:
        exponent = get_currency_precision(currency)
        scaled = Decimal(amount).scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{amount} has more decimals than {currency} allows")
        return cls(int(scaled), currency)

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-get_currency_precision(self.currency))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            raise TypeError("Money can only be multiplied by an int")
        return Money(self.amount_minor * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount_minor <= other.amount_minor

    def __bool__(self) -> bool:
        return self.amount_minor != 0

    def as_dict(self) -> dict[str, int | str]:
        return {"amount_minor": self.amount_minor, "currency": self.currency}

    def format(self, language: str | None = None) -> str:
        locale = babel_locale(language)
        precision = get_currency_precision(self.currency)
        pattern = "#,##0" + ("." + "0" * precision if precision else "")
        symbol = currency_symbol(self.currency, locale)
        # The sign goes before the symbol (-S/ 5.00), as "+S/ 5.00" beside it in a history.
        sign = "-" if self.amount_minor < 0 else ""
        return f"{sign}{symbol}\xa0{format_decimal(abs(self.decimal), format=pattern, locale=locale)}"

    def __str__(self) -> str:
        return self.format()
