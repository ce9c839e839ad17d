"""Uploaded files in PostgreSQL (``files``, migration 0008): a lot's pictures and attachments
(by the market) and a registration's documents (by the bidder), each row owned by exactly one
of them. The content is ``bytea``, next to its metadata: one transaction, one backup, and every
process of a deployment serves the same file (why not the data dir: see the migration).

The checks of the file itself are :mod:`auction.domain.uploads`; here the owner row is locked
while its files are counted, so concurrent uploads cannot pass
:data:`~auction.domain.uploads.MAX_PER_OWNER` together. Lists never carry the content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.domain.uploads import MAX_PER_OWNER, Upload
from auction.store.errors import Conflict, NotFound, translated
from auction.store.records import rfc3339
from auction.store.steps import Actor

if TYPE_CHECKING:
    from auction.store import Store

_INFO = "id, lot_id, registration_id, label, filename, content_type, size_bytes, sha256, created_at"

#: registration statuses in which its bidder may still hand in documents (not while a desk
#: registration awaits the bidder: the market sees nothing of a bidder before it applied)
OPEN_STATUSES = ("applied", "approved", "deposit_paid")


@dataclass(frozen=True, slots=True)
class FileInfo:
    id: int
    lot_id: int | None
    registration_id: int | None
    label: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime

    @property
    def url(self) -> str:
        if self.lot_id is not None:
            return f"/api/v1/lots/{self.lot_id}/attachments/{self.id}"
        return f"/api/v1/registrations/{self.registration_id}/documents/{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "label": self.label, "filename": self.filename,
            "content_type": self.content_type, "size_bytes": self.size_bytes,
            "sha256": self.sha256, "uploaded_at": rfc3339(self.created_at), "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class StoredFile:
    info: FileInfo
    content: bytes


async def _insert(
    conn: Any, owner_column: str, owner_id: int, upload: Upload, label: str, by: Actor
) -> FileInfo:
    count = await conn.fetchval(
        f"SELECT count(*) FROM files WHERE {owner_column} = $1", owner_id
    )
    if count >= MAX_PER_OWNER:
        raise Conflict("too_many_files", f"最多上传 {MAX_PER_OWNER} 个文件", "file")
    row = await conn.fetchrow(
        f"INSERT INTO files ({owner_column}, label, filename, content_type, size_bytes, sha256,"
        " content, uploaded_by, uploaded_by_account) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        f" RETURNING {_INFO}",
        owner_id, label, upload.filename, upload.content_type, len(upload.content),
        hashlib.sha256(upload.content).hexdigest(), upload.content, by.name or by.role,
        by.account_id,
    )
    return FileInfo(**dict(row))


async def add_to_lot(store: Store, lot_id: int, upload: Upload, *, label: str,
                     by: Actor) -> FileInfo:
    """A picture or attachment of the lot (``NotFound`` for an unknown lot)."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT id FROM lots WHERE id = $1 FOR UPDATE", lot_id) is None:
                raise NotFound(message="标的不存在", field="lot_id")
            return await _insert(conn, "lot_id", lot_id, upload, label, by)


async def add_to_registration(
    store: Store, registration_id: int, upload: Upload, *, label: str, by: Actor
) -> FileInfo:
    """A document of the registration, while it is still open (:data:`OPEN_STATUSES`): else
    ``Conflict('wrong_state')`` naming ``status``."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(
                "SELECT status FROM registrations WHERE id = $1 FOR UPDATE", registration_id
            )
            if status is None:
                raise NotFound(message="报名不存在", field="registration_id")
            if status not in OPEN_STATUSES:
                raise Conflict("wrong_state", f"报名状态为 {status}, 不能再上传材料", "status")
            return await _insert(conn, "registration_id", registration_id, upload, label, by)


async def remove_from_lot(store: Store, lot_id: int, file_id: int) -> None:
    """Delete a file of the lot (``NotFound`` when the lot has no such file)."""
    with translated():
        deleted = await store.pool.fetchval(
            "DELETE FROM files WHERE id = $1 AND lot_id = $2 RETURNING id", file_id, lot_id
        )
    if deleted is None:
        raise NotFound(message="文件不存在", field="file_id")


async def remove_from_registration(store: Store, registration_id: int, file_id: int) -> None:
    """Delete a document of the registration while it awaits review (``applied``): once the
    market approved or rejected on its documents they stay (``Conflict('wrong_state')``)."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(
                "SELECT status FROM registrations WHERE id = $1 FOR UPDATE", registration_id
            )
            if status is None:
                raise NotFound(message="报名不存在", field="registration_id")
            found = await conn.fetchval(
                "SELECT id FROM files WHERE id = $1 AND registration_id = $2", file_id,
                registration_id,
            )
            if found is None:
                raise NotFound(message="文件不存在", field="file_id")
            if status != "applied":
                raise Conflict("wrong_state", f"报名状态为 {status}, 材料已不能删除", "status")
            await conn.execute("DELETE FROM files WHERE id = $1", file_id)


async def of_lots(store: Store, lot_ids: list[int]) -> dict[int, list[FileInfo]]:
    """The files of each lot, oldest first (no content)."""
    with translated():
        rows = await store.pool.fetch(
            f"SELECT {_INFO} FROM files WHERE lot_id = ANY($1::bigint[]) ORDER BY id", lot_ids
        )
    out: dict[int, list[FileInfo]] = {}
    for r in rows:
        out.setdefault(int(r["lot_id"]), []).append(FileInfo(**dict(r)))
    return out


async def of_registrations(
    store: Store, registration_ids: list[int]
) -> dict[int, list[FileInfo]]:
    """The documents of each registration, oldest first (no content)."""
    with translated():
        rows = await store.pool.fetch(
            f"SELECT {_INFO} FROM files WHERE registration_id = ANY($1::bigint[]) ORDER BY id",
            registration_ids,
        )
    out: dict[int, list[FileInfo]] = {}
    for r in rows:
        out.setdefault(int(r["registration_id"]), []).append(FileInfo(**dict(r)))
    return out


async def get(
    store: Store, file_id: int, *, lot_id: int | None = None, registration_id: int | None = None
) -> StoredFile:
    """One file with its content, which must belong to ``lot_id`` or ``registration_id``;
    ``NotFound`` otherwise (a file is never reachable through another owner's path)."""
    with translated():
        row = await store.pool.fetchrow(
            f"SELECT {_INFO}, content FROM files WHERE id = $1"
            " AND lot_id IS NOT DISTINCT FROM $2 AND registration_id IS NOT DISTINCT FROM $3",
            file_id, lot_id, registration_id,
        )
    if row is None:
        raise NotFound(message="文件不存在", field="file_id")
    fields = dict(row)
    content = bytes(fields.pop("content"))
    return StoredFile(FileInfo(**fields), content)
