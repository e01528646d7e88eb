"""What a store receipt shows, once: the same facts for the 80 mm print page and the PDF, the QR code
that links to the public verification page, and the PDF itself (ReportLab)."""

from __future__ import annotations

import base64
import io
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
from django.utils.translation import pgettext
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from vigencia.core.money import Money
from vigencia.core.pdf import paragraph
from vigencia.orders.models import OrderStatus
from vigencia.stores.iddocs import DocumentType
from vigencia.stores.models import PosPayment, Receipt
from vigencia.vouchers.codes import serial_display

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
    voucher_serial: str

    @property
    def rows(self) -> list[tuple[str, str]]:
        receipt = self.receipt
        rows = [
            (_("Receipt"), receipt.number),
            (_("Date"), self.issued_at),
            (_("Store"), receipt.store.name),
            (_("Agent"), receipt.agent.name or receipt.agent.email),
            (_("Line"), f"{self.line} · {receipt.order.line.carrier.name}"),
            *([(_("ID document"), self.document)] if receipt.id_type else []),
            (_("Plan"), receipt.order.plan.name),  # in the reader's language, as the order pages show it
            (_("Amount"), self.amount),
            (_("Payment"), self.payment),
        ]
        if receipt.payment == PosPayment.CASH:
            rows += [(_("Tendered"), self.tendered), (pgettext("money handed back", "Change"), self.change)]
        elif receipt.payment == PosPayment.CARD:
            rows.append((_("Terminal reference"), receipt.card_reference))
        else:  # the card's public serial, never its PIN; nothing tendered (the code was paid where bought)
            rows += [
                (_("Recharge card serial"), self.voucher_serial),
                (_("Paid at the counter"), self.tendered),
            ]
        rows += [(_("Valid until"), self.valid_until), (_("Verification code"), receipt.verification_code)]
        return rows


def receipt_view(receipt: Receipt) -> ReceiptView:
    order = receipt.order
    currency = order.currency
    tz = ZoneInfo(receipt.store.timezone)
    if order.status == OrderStatus.COMPLETED and order.valid_until_after:
        valid_until = formats.date_format(order.valid_until_after, "DATE_FORMAT")
    elif order.status in (OrderStatus.FAILED, OrderStatus.REFUNDED) and receipt.payment == PosPayment.CASH:
        valid_until = (
            _("not renewed: the carrier declined; the cash was given back")
            if receipt.cash_returned_at
            else _("not renewed: the carrier declined; the cash is given back at the counter")
        )
    elif order.status in (OrderStatus.FAILED, OrderStatus.REFUNDED) and receipt.payment == PosPayment.CARD:
        valid_until = (
            _("not renewed: the carrier declined; the card was refunded")
            if receipt.cash_returned_at
            else _("not renewed: the carrier declined; the card is refunded at the counter")
        )
    elif order.status in (OrderStatus.FAILED, OrderStatus.REFUNDED):
        valid_until = _("not renewed: the carrier declined; the amount went to the holder's wallet")
    else:
        valid_until = _("pending carrier confirmation")
    return ReceiptView(
        receipt=receipt,
        issued_at=formats.date_format(receipt.created_at.astimezone(tz), "DATETIME_FORMAT"),
        line=msisdn_mask(order.msisdn),
        document=f"{DocumentType(receipt.id_type).label} {receipt.id_masked}"
        + (f" ({receipt.id_country})" if receipt.id_country else "")
        if receipt.id_type
        else "",
        amount=order.total.format(),
        payment=str(PosPayment(receipt.payment).label),
        tendered=Money(receipt.tendered_minor or 0, currency).format(),
        change=Money(receipt.change_minor or 0, currency).format(),
        valid_until=valid_until,
        verify_url=receipt_verify_url(receipt),
        voucher_serial=serial_display(order.voucher.serial) if receipt.payment == PosPayment.VOUCHER else "",
    )


def receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt on an 80 mm wide page as long as its text, with the QR code."""
    view = receipt_view(receipt)
    width, margin, label_width, qr_size, gap = RECEIPT_WIDTH_MM * mm, 5 * mm, 28 * mm, 36 * mm, 2 * mm
    inner = width - 2 * margin
    store = receipt.store
    header = [
        paragraph(store.name, size=12, bold=True, align=TA_CENTER),
        paragraph(f"{store.address}, {store.city}", size=8, align=TA_CENTER),
        *([paragraph(f"{_('Tel.')} {store.phone_display}", size=8, align=TA_CENTER)] if store.phone else []),
    ]
    rows = [(paragraph(label, size=8, bold=True), paragraph(value, size=8)) for label, value in view.rows]
    footer = paragraph(_("Scan to verify this receipt."), size=7, align=TA_CENTER)
    # Paragraph.wrap lays the text out and returns its height: measure all, then size the page.
    header_heights = [part.wrap(inner, 1_000 * mm)[1] for part in header]
    row_heights = [
        max(label.wrap(label_width, 1_000 * mm)[1], value.wrap(inner - label_width, 1_000 * mm)[1]) + 1 * mm
        for label, value in rows
    ]
    footer_height = footer.wrap(inner, 1_000 * mm)[1]
    height = 2 * margin + sum(header_heights) + sum(row_heights) + qr_size + footer_height + 3 * gap

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"{_('Receipt')} {receipt.number}")
    top = height - margin
    for part, part_height in zip(header, header_heights, strict=True):
        top -= part_height
        part.drawOn(pdf, margin, top)
    top -= gap
    for (label, value), row_height in zip(rows, row_heights, strict=True):
        label.drawOn(pdf, margin, top - label.height)
        value.drawOn(pdf, margin + label_width, top - value.height)
        top -= row_height
    top -= gap + qr_size
    image = qrcode.make(view.verify_url, border=2).get_image()
    pdf.drawImage(ImageReader(image), (width - qr_size) / 2, top, qr_size, qr_size)
    top -= gap + footer_height
    footer.drawOn(pdf, margin, top)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
