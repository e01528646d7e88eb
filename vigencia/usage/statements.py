"""A statement as CSV, PDF (fpdf2) and an inline SVG chart: presentation only, from selectors."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from fpdf import FPDF

from vigencia.core.money import Money
from vigencia.usage.models import UsageKind
from vigencia.usage.selectors import Statement

_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_CHART_UNITS = {UsageKind.DATA: "KB", UsageKind.VOICE: "s", UsageKind.SMS: "SMS"}


def statement_csv(statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "record_id",
            "kind",
            "started_at",
            "quantity",
            "destination",
            "rated_quantity",
            "in_bundle_quantity",
            "price_minor",
            "currency",
            "carrier_charged_minor",
        ]
    )
    for r in statement.records:
        writer.writerow(
            [
                r.record_id,
                r.kind,
                r.started_at.isoformat(),
                r.quantity,
                r.destination,
                r.rated_quantity,
                r.in_bundle_quantity,
                r.price_minor,
                r.currency or statement.currency,
                "" if r.carrier_charged_minor is None else r.carrier_charged_minor,
            ]
        )
    return out.getvalue()


def statement_pdf(statement: Statement) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    if _FONT.exists():
        pdf.add_font("body", fname=str(_FONT))
        pdf.set_font("body", size=10)
    else:  # pragma: no cover - DejaVu ships with the image
        pdf.set_font("helvetica", size=10)

    def text(value: str) -> str:
        # DejaVu has no CJK glyphs: keep the rest readable rather than failing.
        return value if all(ord(ch) < 0x2E80 for ch in value) else value.encode("ascii", "replace").decode()

    pdf.cell(
        0,
        8,
        text(
            _("Statement for %(number)s, %(start)s to %(end)s")
            % {"number": statement.line.msisdn, "start": statement.date_from, "end": statement.date_to}
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for kind, total in statement.totals.items():
        pdf.cell(
            0,
            6,
            text(
                f"{kind}: {total.records} / {total.rated_quantity} / {Money(total.price_minor, statement.currency)}"  # noqa: E501
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.cell(
        0,
        6,
        text(_("Total charged: %(total)s") % {"total": statement.price_total}),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    for r in statement.records[:5000]:
        pdf.cell(
            0,
            5,
            text(
                f"{r.started_at:%Y-%m-%d %H:%M}  {r.kind:5}  {r.quantity:>12}  {r.destination:16} {Money(r.price_minor, r.currency or statement.currency)}"  # noqa: E501
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str


@dataclass(frozen=True)
class Chart:
    kind: str
    unit: str
    width: int
    height: int
    peak: int
    bars: list[Bar]


def statement_charts(statement: Statement, *, width: int = 600, height: int = 120) -> list[Chart]:
    """One bar chart per kind (a bar per day), as coordinates the template draws in SVG."""
    charts = []
    days = len(statement.days) or 1
    slot = max(width // days, 1)
    for kind in UsageKind.values:
        series = statement.daily.get(kind, [])
        peak = max(series, default=0)
        bars = []
        for n, amount in enumerate(series):
            bar_height = 0 if peak == 0 else max(amount * (height - 10) // peak, 1 if amount else 0)
            bars.append(
                Bar(
                    n * slot,
                    height - bar_height,
                    max(slot - 1, 1),
                    bar_height,
                    f"{statement.days[n]:%Y-%m-%d}: {amount} {_CHART_UNITS[UsageKind(kind)]}",
                )
            )
        charts.append(Chart(kind, _CHART_UNITS[UsageKind(kind)], slot * days, height, peak, bars))
    return charts
