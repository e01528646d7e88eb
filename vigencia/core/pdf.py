"""Text in the PDFs (ReportLab): Latin in Helvetica, Chinese in the standard CJK font STSong-Light."""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph

CJK_FONT = "STSong-Light"  # Simplified Chinese


@cache
def cjk_font() -> str:
    # A predefined CJK font of the PDF standard (Adobe-GB1 character collection): readers draw it with
    # a Chinese font of their own, so no font file is shipped or embedded and the PDF still takes
    # milliseconds (embedding a subset of Noto Sans CJK took seconds per receipt).
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def font_for(text: str, *, bold: bool = False) -> str:
    """Helvetica when its Windows-1252 encoding can hold the text, else the CJK font."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return cjk_font()
    return "Helvetica-Bold" if bold else "Helvetica"


def paragraph(text: str, *, size: float, bold: bool = False, align: int = TA_LEFT) -> Paragraph:
    """Text in the font `font_for` picks; the CJK font breaks lines between any two characters, as
    Chinese is written."""
    font = font_for(text, bold=bold)
    style = ParagraphStyle(
        "text",
        fontName=font,
        fontSize=size,
        leading=size * 1.25,
        alignment=align,
        wordWrap="CJK" if font == CJK_FONT else None,
    )
    return Paragraph(escape(text), style)
