"""The one export of a batch's PINs: a CSV file and a printable PDF sheet of cards.

The PDF's instructions are in English, Spanish and Simplified Chinese. An export held for a reseller's
single download is kept encrypted (AES-GCM) on disk, outside the database, and is deleted when taken.
"""

from __future__ import annotations

import csv
import hmac
import io
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from vigencia.core.pdf import font_for, paragraph
from vigencia.vouchers.codes import pin_display, serial_display

if TYPE_CHECKING:
    from vigencia.vouchers.models import VoucherBatch

# A PDF sheet beyond this many cards is not useful to print; bigger batches export the CSV only.
PDF_MAX_CODES = 5_000
CSV_HEADER = ["serial", "pin", "plan_code", "plan_name", "face_value_minor", "currency", "expires_on"]
INSTRUCTIONS = gettext_noop(
    "Redeem at vigencia.pe or in the app: enter the PIN and your number. Check the serial is genuine "
    "before you pay. Valid until %(expires)s."
)
WALLET_INSTRUCTIONS = gettext_noop(
    "Redeem at vigencia.pe or in the app: enter the PIN and its value goes to your wallet, to renew any "
    "of your lines. Check the serial is genuine before you pay. Valid until %(expires)s."
)
# What a wallet card's CSV row and card title name in place of a plan.
WALLET_CARD = "Wallet card"


class BatchExport:
    """Receives the (serial, PIN) pairs of a new batch chunk by chunk and writes the CSV as it goes;
    keeps the pairs for the PDF only when the batch is small enough to print."""

    def __init__(self, stream: TextIO, *, batch: VoucherBatch) -> None:
        self.batch = batch
        self.stream = stream
        csv.writer(stream).writerow(CSV_HEADER)
        self.cards: list[tuple[str, str]] | None = [] if batch.count <= PDF_MAX_CODES else None
        # The columns every row shares, quoted by the csv module once, with its line end.
        tail = io.StringIO()
        csv.writer(tail).writerow(
            [
                batch.plan.code if batch.plan else "",
                batch.plan.name_en if batch.plan else WALLET_CARD,
                str(batch.face_minor),
                batch.currency,
                batch.expires_on,
            ]
        )
        self._tail = tail.getvalue()

    def add(self, pairs: list[tuple[str, str]]) -> None:
        # A serial and a PIN are digits, dashes and spaces, which CSV never quotes: each row is
        # serial_display, pin_display and the shared tail, formatted in one pass over the chunk.
        tail = self._tail
        self.stream.write(
            "".join(
                f"{s[:6]}-{s[6:13]}-{s[13:]},{p[:4]} {p[4:8]} {p[8:12]} {p[12:]},{tail}" for s, p in pairs
            )
        )
        if self.cards is not None:
            self.cards.extend(pairs)

    def pdf(self) -> bytes | None:
        return None if self.cards is None else cards_pdf(batch=self.batch, cards=self.cards)


CARD_LANGUAGES = ["en", "es", "zh-hans"]


def _instructions(batch: VoucherBatch) -> list[Paragraph]:
    """The instructions in each card language, laid out once for the card's width."""
    paragraphs = []
    for language in CARD_LANGUAGES:
        with translation.override(language):
            text = _(INSTRUCTIONS if batch.plan else WALLET_INSTRUCTIONS) % {
                "expires": batch.expires_on.isoformat()
            }
        paragraphs.append(paragraph(text, size=6))
        paragraphs[-1].wrap(79 * mm, 54 * mm)
    return paragraphs


def cards_pdf(*, batch: VoucherBatch, cards: list[tuple[str, str]]) -> bytes:
    """An A4 sheet of 10 cards a page (85 x 54 mm): plan, face value, serial, PIN, expiry, instructions."""
    title = f"Vigencia · {batch.plan.name_en if batch.plan else WALLET_CARD} · {batch.face.format('es')}"
    instructions = _instructions(batch)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(title)
    for position, (serial, pin) in enumerate(cards):
        if position and position % 10 == 0:
            pdf.showPage()
        column, row = position % 2, (position % 10) // 2
        # The card's top left corner, and each baseline below it, in mm from the page's top left.
        x, y = 12 + column * 95, 12 + row * 56
        pdf.rect(x * mm, A4[1] - (y + 54) * mm, 85 * mm, 54 * mm)
        for text, size, baseline in (
            (title, 10, 6.6),
            (f"Serial: {serial_display(serial)}", 8, 12.8),
            (f"PIN {pin_display(pin)}", 14, 21),
        ):
            pdf.setFont(font_for(text), size)
            pdf.drawString((x + 3) * mm, A4[1] - (y + baseline) * mm, text)
        top = A4[1] - (y + 25) * mm
        for part in instructions:
            top -= part.height
            part.drawOn(pdf, (x + 3) * mm, top)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def export_zip(*, csv_text: str, pdf: bytes | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("codes.csv", csv_text)
        if pdf is not None:
            archive.writestr("cards.pdf", pdf)
    return buffer.getvalue()


def _key() -> bytes:
    return hmac.digest(settings.VIGENCIA_VOUCHER_PIN_KEY.encode(), b"voucher-export", "sha256")


def _path(batch_id: int) -> Path:
    return Path(settings.VIGENCIA_VOUCHER_EXPORT_DIR) / f"batch-{batch_id}.bin"


def export_hold(*, batch_id: int, content: bytes) -> None:
    """Keep the export, encrypted, until its one download."""
    path = _path(batch_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(_key()).encrypt(nonce, content, str(batch_id).encode())
    path.write_bytes(sealed)
    path.chmod(0o600)


def export_read(*, batch_id: int) -> bytes | None:
    path = _path(batch_id)
    if not path.exists():
        return None
    sealed = path.read_bytes()
    return AESGCM(_key()).decrypt(sealed[:12], sealed[12:], str(batch_id).encode())


def export_delete(*, batch_id: int) -> None:
    _path(batch_id).unlink(missing_ok=True)
