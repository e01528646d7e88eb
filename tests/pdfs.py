"""Reading back the text a ReportLab PDF shows, for the tests of the PDFs."""

from __future__ import annotations

import base64
import re
import zlib


def pdf_strings(pdf: bytes) -> bytes:
    """The string literals the PDF's pages show, unescaped (ReportLab writes a page's stream as ASCII85
    over Flate with no other key than /Length; Helvetica text is Windows-1252, the CJK font's UTF-16BE)."""
    shown = b""
    pages = rb"<<\s*/Filter \[ /ASCII85Decode /FlateDecode \] /Length \d+\s*>>\s*stream\r?\n(.*?)~>"
    for data in re.findall(pages, pdf, re.DOTALL):
        page = zlib.decompress(base64.a85decode(data, adobe=False))
        for literal in re.findall(rb"\(((?:[^\\)]|\\.)*)\) Tj", page, re.DOTALL):
            shown += re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda escape: bytes([int(escape[1], 8)]) if escape[1].isdigit() else escape[1],
                literal,
                flags=re.DOTALL,
            )
    return shown
