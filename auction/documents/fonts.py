"""The CJK font embedded in PDFs, found at run time (docs/formats.md "成交确认书").

reportlab embeds (a subset of) a TrueType font; it cannot read CFF-outline OpenType, which rules
out Noto CJK / Source Han. The font is, in order:

1. the file ``AUCTION_PDF_FONT`` names (a ``.ttf``, or a ``.ttc`` whose first face is used);
2. the first of :data:`KNOWN_FONTS` present: Debian's ``fonts-wqy-microhei`` (installed by
   ``.ci/install-browser`` and the Dockerfile), then other TrueType CJK fonts Debian ships.

None usable is :class:`~auction.documents.FontMissing` with a message saying what to install.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from auction.documents import FontMissing

#: TrueType-outline CJK fonts from Debian packages, preferred first
KNOWN_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),  # fonts-arphic-ukai
)

HOW_TO = ("安装 Debian 包 fonts-wqy-microhei (apt-get install fonts-wqy-microhei), "
          "或以 AUCTION_PDF_FONT 指向一个 TrueType 轮廓的中文字体文件 (.ttf / .ttc)")

_lock = threading.Lock()
_registered: dict[Path, str] = {}


def locate(configured: Path | None, known: tuple[Path, ...] = KNOWN_FONTS) -> Path:
    """The font file to use: ``configured`` if given (it must exist), else the first known."""
    if configured is not None:
        if not configured.is_file():
            raise FontMissing(f"AUCTION_PDF_FONT 指向的字体文件不存在: {configured}; {HOW_TO}")
        return configured
    for path in known:
        if path.is_file():
            return path
    raise FontMissing(f"找不到可嵌入 PDF 的中文字体; {HOW_TO}")


def register(path: Path) -> str:
    """Register ``path`` with reportlab once per process; the font name to draw with."""
    with _lock:
        name = _registered.get(path)
        if name is None:
            name = f"CJK{len(_registered)}"
            try:
                pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
            except (TTFError, OSError) as exc:
                raise FontMissing(
                    f"字体 {path} 不能嵌入 PDF ({exc}); 它须为 TrueType 轮廓 (Noto CJK 等 CFF "
                    f"轮廓字体不行); {HOW_TO}"
                ) from None
            _registered[path] = name
    return name
