"""The rules of an uploaded file (auction/domain/uploads.py): types by magic bytes, names, sizes."""

from __future__ import annotations

import pytest

from auction.domain.uploads import MAX_BYTES, UploadError, check, clean_name, content_type_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


@pytest.mark.parametrize(("raw", "name"), [
    ("营业执照.pdf", "营业执照.pdf"), ("C:\\fakepath\\a.png", "a.png"),
    ("../../etc/passwd", "passwd"),
    ("  照片 1.jpg  ", "照片 1.jpg"), ("dir/", None), ("", None), ("..", None), ("a\x00.png", None),
    ("a" * 201, None),
])
def test_names_keep_their_last_component_or_are_refused(raw: str, name: str | None) -> None:
    """Only the last path component is kept; empty, dot names, control characters and names
    over 200 characters are refused naming ``filename``."""
    if name is None:
        with pytest.raises(UploadError) as caught:
            clean_name(raw)
        assert caught.value.field == "filename"
    else:
        assert clean_name(raw) == name


def test_the_declared_type_must_be_allowed_and_match_the_content() -> None:
    """An allowed type whose magic bytes match passes (aliases and parameters tolerated);
    anything else is 415 naming ``content_type``; sizes are 1 byte to 5 MiB."""
    assert content_type_of("IMAGE/JPG; charset=x") == "image/jpeg"
    assert check("a.png", "image/png", PNG).content_type == "image/png"
    webp = b"RIFF\x00\x00\x00\x00WEBPVP8 "
    assert check("a.webp", "image/webp", webp).content_type == "image/webp"
    for media, content in (("image/svg+xml", b"<svg/>"), ("image/png", b"GIF89a"),
                           ("image/webp", b"RIFF\x00\x00\x00\x00WAVE"),
                           ("application/pdf", PNG), ("text/html", b"<html>")):
        with pytest.raises(UploadError) as caught:
            check("a", media, content)
        assert (caught.value.status, caught.value.field) == (415, "content_type")
    with pytest.raises(UploadError) as caught:
        check("a.png", "image/png", b"")
    assert (caught.value.status, caught.value.field) == (400, "file")
    with pytest.raises(UploadError) as caught:
        check("a.png", "image/png", PNG + b"\x00" * MAX_BYTES)
    assert (caught.value.status, caught.value.code) == (413, "too_large")
