"""A statement as CSV, PDF (ReportLab) and an inline SVG chart: presentation only, from selectors."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils import formats, timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from vigencia.core.money import Money
from vigencia.core.pdf import font_for
from vigencia.core.templatetags.days import month_day
from vigencia.lines.numbers import msisdn_display
from vigencia.usage.models import UsageKind
from vigencia.usage.selectors import Statement

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


def statement_download(statement: Statement, *, fmt: str) -> HttpResponse:
    """The statement as a CSV or PDF file to save: the API and the portal's page give the same."""
    filename = f"statement-{statement.line.pk}-{statement.date_from}-{statement.date_to}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def quantity_display(kind: str, amount: int, *, rated: bool) -> str:
    """An amount of usage as people read it: voice in minutes and seconds, data in MB (a record's
    quantity is in bytes, a rated one in KB), SMS as a count."""
    if kind == UsageKind.VOICE:
        minutes, seconds = divmod(amount, 60)
        if seconds == 0:
            return _("%(minutes)s min") % {"minutes": _grouped(minutes)}
        return _("%(minutes)s min %(seconds)s s") % {"minutes": _grouped(minutes), "seconds": seconds}
    if kind == UsageKind.DATA:
        megabytes = round(amount / 1024 if rated else amount / 2**20, 1)
        return _("%(megabytes)s MB") % {"megabytes": _grouped(megabytes, 0 if megabytes.is_integer() else 1)}
    return _grouped(amount)


def _grouped(number: float, decimals: int = 0) -> str:
    """15,360 in English and in Peru's Spanish, 15,360 in Chinese: thousands grouped as the reader's
    language writes them, whatever USE_THOUSAND_SEPARATOR says."""
    return number_format(number, decimals, force_grouping=True)


# A record's columns on the page, from the left margin (mm): when, what, how much, to whom, charged.
_RECORD_COLUMNS = (0, 34, 54, 84, 124)


def statement_pdf(statement: Statement) -> bytes:
    """A4 pages in the reader's language: the period's totals, then a line per record (the first
    5,000) in columns, as the statement page shows them."""
    currency = statement.currency
    number = msisdn_display(statement.line.msisdn)
    title = _("Statement for %(number)s, %(start)s to %(end)s") % {
        "number": number,
        "start": formats.date_format(statement.date_from, "DATE_FORMAT"),
        "end": formats.date_format(statement.date_to, "DATE_FORMAT"),
    }
    rows: list[tuple[list[tuple[int, str]], int]] = [([(0, title)], 8)]  # (cells at x mm, height mm)
    for kind, total in statement.totals.items():
        records = ngettext("%(count)s record", "%(count)s records", total.records) % {"count": total.records}
        rated = quantity_display(kind, total.rated_quantity, rated=True)
        charged = Money(total.price_minor, currency)
        line = _("%(kind)s: %(records)s · %(rated)s · %(charged)s") % {
            "kind": UsageKind(kind).label,
            "records": records,
            "rated": rated,
            "charged": charged,
        }
        rows.append(([(0, line)], 6))
    rows += [([(0, _("Total charged: %(total)s") % {"total": statement.price_total})], 6), ([], 4)]
    rows += [
        (
            list(
                zip(
                    _RECORD_COLUMNS,
                    (
                        formats.date_format(timezone.localtime(r.started_at), "SHORT_DATETIME_FORMAT"),
                        str(UsageKind(r.kind).label),
                        quantity_display(r.kind, r.quantity, rated=False),
                        r.destination,
                        str(Money(r.price_minor, r.currency or currency)),
                    ),
                    strict=True,
                )
            ),
            5,
        )
        for r in statement.records[:5000]
    ]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(title)
    page_top, margin, bottom = A4[1] - 10 * mm, 10 * mm, 20 * mm
    top = page_top
    for cells, height in rows:
        if top - height * mm < bottom:
            pdf.showPage()
            top = page_top
        top -= height * mm
        for x, text in cells:
            pdf.setFont(font_for(text), 10)
            pdf.drawString(margin + x * mm, top + height * mm / 2 - 3, text)  # centred in its line
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str


@dataclass(frozen=True)
class Tick:
    x: int
    label: str
    anchor: str  # SVG text-anchor: start, middle or end


@dataclass(frozen=True)
class Chart:
    kind: str
    label: str
    unit: str
    width: int
    height: int  # of the bars; the date axis is drawn below, down to total_height
    peak: int
    bars: list[Bar]
    ticks: list[Tick]

    @property
    def total_height(self) -> int:
        return self.height + AXIS_HEIGHT


AXIS_HEIGHT = 34  # room under the bars for the dates (usage.css: 18 units high, 26 on a phone)
_TICKS = 4  # at most this many dates along the axis, so "12月31日" fits between them on a phone


def _ticks(statement: Statement, slot: int) -> list[Tick]:
    """Dates under the bars, in the reader's language: the first day, the last, and evenly spaced
    days between them, none closer to the last than the spacing."""
    days = statement.days
    if not days:
        return []
    step = max(-(-len(days) // _TICKS), 1)
    chosen = [n for n in range(0, len(days) - 1, step) if n == 0 or len(days) - 1 - n >= step]
    chosen.append(len(days) - 1)
    ticks = []
    for n in dict.fromkeys(chosen):  # one day alone is both the first and the last
        anchor = "start" if n == 0 else "end" if n == len(days) - 1 else "middle"
        x = {"start": n * slot, "middle": n * slot + slot // 2, "end": (n + 1) * slot}[anchor]
        ticks.append(Tick(x, month_day(days[n]), anchor))
    return ticks


def _chart_amount(kind: str, amount: int) -> str:
    """A day's usage under a bar, as the reader reads it (the daily series has data in KB)."""
    if kind == UsageKind.SMS:
        return ngettext("%(count)s SMS", "%(count)s SMS", amount) % {"count": _grouped(amount)}
    return quantity_display(kind, amount, rated=True)


def statement_charts(statement: Statement, *, width: int = 600, height: int = 120) -> list[Chart]:
    """One bar chart per kind (a bar per day), as coordinates the template draws in SVG, with the
    dates along the bottom."""
    charts = []
    days = len(statement.days) or 1
    slot = max(width // days, 1)
    ticks = _ticks(statement, slot)
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
                    f"{month_day(statement.days[n])}: {_chart_amount(kind, amount)}",
                )
            )
        unit = _CHART_UNITS[UsageKind(kind)]
        charts.append(Chart(kind, str(UsageKind(kind).label), unit, slot * days, height, peak, bars, ticks))
    return charts
