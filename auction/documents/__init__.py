"""Documents the engine prints: the 成交确认书 as PDF (:mod:`auction.documents.confirmation_pdf`)
with its embedded CJK font (:mod:`auction.documents.fonts`).

Exception tree::

    DocumentError(code, message)   the document cannot be made on this server; nothing to do
    └── FontMissing                code ``pdf_font_missing``: no usable CJK font (install
                                   fonts-wqy-microhei or set AUCTION_PDF_FONT)
"""

from __future__ import annotations


class DocumentError(Exception):
    """A document cannot be made here. ``code`` is stable; ``message`` says what to do."""

    code = "document_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FontMissing(DocumentError):
    code = "pdf_font_missing"
