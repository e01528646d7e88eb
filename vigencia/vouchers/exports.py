"""The one export of a batch's PINs: a CSV file and a printable PDF sheet of cards.

The PDF's instructions are in English and Spanish, plus Simplified Chinese when a CJK TrueType font is
configured (settings.VIGENCIA_VOUCHER_CJK_FONT; the core PDF fonts cannot draw Chinese). An export held
for a reseller's single download is kept encrypted (AES-GCM) on disk, outside the database, and is
deleted when taken.
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
from fpdf import FPDF

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
            [batch.plan.code, batch.plan.name_en, str(batch.face_minor), batch.currency, batch.expires_on]
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


def _instructions(batch: VoucherBatch, languages: list[str]) -> list[str]:
    lines = []
    for language in languages:
        with translation.override(language):
            lines.append(_(INSTRUCTIONS) % {"expires": batch.expires_on.isoformat()})
    return lines


def cards_languages() -> list[str]:
    """The languages of the printed instructions: Chinese only with a CJK font to draw it."""
    font = settings.VIGENCIA_VOUCHER_CJK_FONT
    return ["en", "es", "zh-hans"] if font and Path(font).exists() else ["en", "es"]


def cards_pdf(*, batch: VoucherBatch, cards: list[tuple[str, str]]) -> bytes:
    """An A4 sheet of 10 cards a page (85 x 54 mm): plan, face value, serial, PIN, expiry, instructions."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(10, 10)
    font = "Helvetica"
    languages = cards_languages()
    if "zh-hans" in languages:
        pdf.add_font("cjk", fname=settings.VIGENCIA_VOUCHER_CJK_FONT)
        font = "cjk"
    instructions = _instructions(batch, languages)
    title = f"{batch.plan.name_en} · {batch.face.format('es')}"
    for position, (serial, pin) in enumerate(cards):
        if position % 10 == 0:
            pdf.add_page()
        column, row = position % 2, (position % 10) // 2
        x, y = 12 + column * 95, 12 + row * 56
        pdf.rect(x, y, 85, 54)
        pdf.set_xy(x + 3, y + 3)
        pdf.set_font(font, size=10)
        pdf.cell(79, 5, f"Vigencia · {title}")
        pdf.set_xy(x + 3, y + 10)
        pdf.set_font(font, size=8)
        pdf.cell(79, 4, f"Serial: {serial_display(serial)}")
        pdf.set_xy(x + 3, y + 16)
        pdf.set_font(font, size=14)
        pdf.cell(79, 7, f"PIN {pin_display(pin)}")
        pdf.set_xy(x + 3, y + 25)
        pdf.set_font(font, size=6)
        pdf.multi_cell(79, 2.6, "\n".join(instructions))
    return bytes(pdf.output())


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
