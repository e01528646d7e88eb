"""What a store receipt shows, once: the same facts for the 80 mm print page and the PDF, the QR code
that links to the public verification page, and the PDF itself (fpdf2)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import phonenumbers
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from fpdf import FPDF

from vigencia.core.money import Money
from vigencia.orders.models import OrderStatus
from vigencia.stores.iddocs import DocumentType
from vigencia.stores.models import PosPayment, Receipt

RECEIPT_WIDTH_MM = 80


def msisdn_mask(e164: str) -> str:
    """The country code and the last four digits: `+51 ****5678`."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return "****" + e164[-4:]
    return f"+{number.country_code} ****{str(number.national_number)[-4:]}"


def receipt_verify_url(receipt: Receipt) -> str:
    query = urlencode({"number": receipt.number, "code": receipt.verification_code})
    return f"{settings.SITE_URL.rstrip('/')}{reverse('receipts:verify')}?{query}"


def receipt_qr_data_uri(receipt: Receipt) -> str:
    """The verification link as an SVG QR code in a data: URI (the CSP allows img-src data:)."""
    svg = qrcode.make(receipt_verify_url(receipt), image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.to_string()).decode()


@dataclass(frozen=True)
class ReceiptView:
    receipt: Receipt
    issued_at: str
    line: str
    document: str
    amount: str
    payment: str
    tendered: str
    change: str
    valid_until: str  # the new date, or "pending carrier confirmation", or why there is none
    verify_url: str

    @property
    def rows(self) -> list[tuple[str, str]]:
        receipt = self.receipt
        rows = [
            (_("Receipt"), receipt.number),
            (_("Date"), self.issued_at),
            (_("Store"), receipt.store.name),
            (_("Agent"), receipt.agent.name or receipt.agent.email),
            (_("Line"), f"{self.line} · {receipt.order.line.carrier.name}"),
            (_("ID document"), self.document),
            (_("Plan"), receipt.order.plan_name),
            (_("Amount"), self.amount),
            (_("Payment"), self.payment),
        ]
        if receipt.payment == PosPayment.CASH:
            rows += [(_("Tendered"), self.tendered), (_("Change"), self.change)]
        else:
            rows.append((_("Terminal reference"), receipt.card_reference))
        rows += [(_("Valid until"), self.valid_until), (_("Verification code"), receipt.verification_code)]
        return rows


def receipt_view(receipt: Receipt) -> ReceiptView:
    order = receipt.order
    currency = order.currency
    tz = ZoneInfo(receipt.store.timezone)
    if order.status == OrderStatus.COMPLETED and order.valid_until_after:
        valid_until = formats.date_format(order.valid_until_after, "DATE_FORMAT")
    elif order.status in (OrderStatus.FAILED, OrderStatus.REFUNDED):
        valid_until = _("not renewed: the carrier declined; the amount went to the holder's wallet")
    else:
        valid_until = _("pending carrier confirmation")
    return ReceiptView(
        receipt=receipt,
        issued_at=formats.date_format(receipt.created_at.astimezone(tz), "DATETIME_FORMAT"),
        line=msisdn_mask(order.msisdn),
        document=f"{DocumentType(receipt.id_type).label} {receipt.id_masked}"
        + (f" ({receipt.id_country})" if receipt.id_country else ""),
        amount=order.total.format(),
        payment=str(PosPayment(receipt.payment).label),
        tendered=Money(receipt.tendered_minor or 0, currency).format(),
        change=Money(receipt.change_minor or 0, currency).format(),
        valid_until=valid_until,
        verify_url=receipt_verify_url(receipt),
    )


def _latin1(text: str) -> str:
    # The PDF uses the core Helvetica font (no font files to ship): text outside Latin-1 is replaced.
    return text.replace("\xa0", " ").encode("latin-1", "replace").decode("latin-1")


def receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt on an 80 mm wide page, with the QR code."""
    view = receipt_view(receipt)
    rows = view.rows
    pdf = FPDF(unit="mm", format=(RECEIPT_WIDTH_MM, 60 + 9 * len(rows) + 50))
    pdf.set_margins(5, 5, 5)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    width = RECEIPT_WIDTH_MM - 10
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(width, 6, _latin1(receipt.store.name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        width,
        4,
        _latin1(f"{receipt.store.address}, {receipt.store.city}"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(28, 5, _latin1(label))
        pdf.set_font("Helvetica", "", 8)
        pdf.multi_cell(width - 28, 5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    image = qrcode.make(view.verify_url, border=2).get_image()
    pdf.image(image, x=(RECEIPT_WIDTH_MM - 36) / 2, w=36, h=36)
    pdf.set_font("Helvetica", "", 7)
    pdf.multi_cell(
        width, 4, _latin1(_("Scan to verify this receipt.")), align="C", new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())
