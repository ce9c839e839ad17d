"""``AUCTION_PUBLIC_URL`` and ``AUCTION_PDF_FONT`` are read once by the settings: the URL is
checked (http(s), a host, no query) and kept without its trailing slash."""

from __future__ import annotations

from pathlib import Path

import pytest

from auction.settings import ConfigError, Settings

BASE = {"AUCTION_SECRET": "s" * 32}


def test_public_url_and_font_are_read() -> None:
    """A good URL loses its trailing slash; the font path is kept as given; unset is None."""
    settings = Settings.from_env({**BASE, "AUCTION_PUBLIC_URL": "https://a.example.cn/auction/",
                                  "AUCTION_PDF_FONT": "/fonts/x.ttf"})
    assert settings.public_url == "https://a.example.cn/auction"
    assert settings.pdf_font == Path("/fonts/x.ttf")
    unset = Settings.from_env(BASE)
    assert (unset.public_url, unset.pdf_font) == (None, None)


@pytest.mark.parametrize("bad", ["auction.example.cn", "ftp://a.example.cn", "https://",
                                 "https://a.example.cn/?x=1", "http://a.example.cn:99999"])
def test_a_public_url_that_cannot_be_used_is_a_config_error(bad: str) -> None:
    """Without a scheme, another scheme, no host, a query or a bad port: one clear line."""
    with pytest.raises(ConfigError, match="AUCTION_PUBLIC_URL"):
        Settings.from_env({**BASE, "AUCTION_PUBLIC_URL": bad})
