"""What an uploaded file (a lot's picture or attachment, a registration's document) may be: pure
checks, no I/O (docs/http-api.md "Attachments and documents").

- **Types**: PNG, JPEG, WebP pictures and PDF documents only. The declared type must match the
  content's magic bytes, so a file is always served as what it is (with ``nosniff``): an HTML
  page or a script uploaded as ``image/png`` is refused, not stored.
- **Size**: 1 byte to :data:`MAX_BYTES` (5 MiB); at most :data:`MAX_PER_OWNER` files per lot or
  registration.
- **Names**: the last path component of what the client sent (a ``C:\\fakepath\\`` prefix or a
  ``../`` is dropped), valid text without control characters, at most 200 characters. The name
  is only ever shown and offered for download (``Content-Disposition``), never used as a path.

Exception tree::

    UploadError(code, message, field, status)   bad_request (400) / too_large (413) /
                                                unsupported_type (415)
"""

from __future__ import annotations

from dataclasses import dataclass

from auction.domain.inputs import text_problem

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_OWNER = 20
MAX_NAME = 200

#: type → (magic bytes at offset 0, extra magic at offset 8 or b"")
TYPES: dict[str, tuple[bytes, bytes]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n", b""),
    "image/jpeg": (b"\xff\xd8\xff", b""),
    "image/webp": (b"RIFF", b"WEBP"),
    "application/pdf": (b"%PDF-", b""),
}
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


class UploadError(Exception):
    """The upload is refused; ``field`` names what was wrong, ``status`` is the HTTP status."""

    def __init__(self, code: str, message: str, field: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True, slots=True)
class Upload:
    """A checked file, ready to be stored."""

    filename: str
    content_type: str
    content: bytes


def content_type_of(header: str) -> str:
    """The media type of a ``Content-Type`` header value, lower case, without parameters;
    known aliases (``image/jpg``) become the standard name."""
    media = header.split(";", 1)[0].strip().lower()
    return _ALIASES.get(media, media)


def sniffed(content: bytes) -> str | None:
    """The type the content's magic bytes say, or ``None`` for none of :data:`TYPES`."""
    for media, (head, at_eight) in TYPES.items():
        if content.startswith(head) and (not at_eight or content[8:12] == at_eight):
            return media
    return None


def clean_name(raw: str) -> str:
    """The file's name as shown: its last path component, trimmed; ``UploadError`` naming
    ``filename`` when empty, too long or not plain text."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        raise UploadError("bad_request", "缺少文件名 (filename)", "filename")
    problem = text_problem(name, max_len=MAX_NAME)
    if problem is not None:
        raise UploadError("bad_request", f"文件名 {problem}", "filename")
    return name


def check(filename: str, declared_type: str, content: bytes) -> Upload:
    """The upload, checked (see the module docstring), else :class:`UploadError`."""
    name = clean_name(filename)
    media = content_type_of(declared_type)
    if media not in TYPES:
        raise UploadError(
            "unsupported_type", "只接受 PNG / JPEG / WebP 图片或 PDF 文件", "content_type", 415
        )
    if not content:
        raise UploadError("bad_request", "文件为空", "file")
    if len(content) > MAX_BYTES:
        raise UploadError("too_large", "文件超过 5 MiB", "file", 413)
    actual = sniffed(content)
    if actual != media:
        raise UploadError(
            "unsupported_type", f"文件内容与声明的类型 {media} 不符", "content_type", 415
        )
    return Upload(filename=name, content_type=media, content=content)
