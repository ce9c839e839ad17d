"""The PDF font is found as documented (AUCTION_PDF_FONT, else known Debian paths) and its
absence, or a font reportlab cannot embed, is a :class:`FontMissing` saying what to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from auction.documents import FontMissing
from auction.documents.fonts import KNOWN_FONTS, locate, register


def test_the_configured_font_wins(tmp_path: Path) -> None:
    """A configured file that exists is used, whatever else is installed."""
    font = tmp_path / "mine.ttf"
    font.write_bytes(b"\x00\x01\x00\x00")
    assert locate(font) == font


def test_a_configured_font_that_is_missing_says_so(tmp_path: Path) -> None:
    """A configured path that is not a file is refused naming it and the Debian package."""
    with pytest.raises(FontMissing) as caught:
        locate(tmp_path / "absent.ttf")
    assert str(tmp_path / "absent.ttf") in caught.value.message
    assert "fonts-wqy-microhei" in caught.value.message
    assert caught.value.code == "pdf_font_missing"


def test_the_first_known_font_present_is_used(tmp_path: Path) -> None:
    """Without a setting, the first of the known paths that exists."""
    second = tmp_path / "b.ttc"
    second.write_bytes(b"x")
    assert locate(None, (tmp_path / "a.ttc", second)) == second
    with pytest.raises(FontMissing):
        locate(None, (tmp_path / "a.ttc",))


def test_a_file_that_is_not_a_truetype_font_is_refused(tmp_path: Path) -> None:
    """reportlab's refusal (here: not a font at all) becomes FontMissing, not a traceback."""
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font")
    with pytest.raises(FontMissing) as caught:
        register(bogus)
    assert "TrueType" in caught.value.message


def test_the_installed_font_registers() -> None:
    """The project installs fonts-wqy-microhei (.ci/install-browser, Dockerfile): it is found
    and reportlab can embed it."""
    path = locate(None)
    assert path == KNOWN_FONTS[0]
    assert register(path) == register(path)
