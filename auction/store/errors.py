"""What the store raises: asyncpg's SQLSTATE exceptions turned into outcomes callers can act on.

Exception tree::

    StoreError(code, message, field)   the store could not do what was asked; nothing changed
    ├── NotFound       code ``not_found``: the row (or a row it references) does not exist
    ├── Conflict       code ``conflict`` or a state code such as ``wrong_state``: a unique key
    │                  is taken, or the row is not in a state that allows the change
    ├── Invalid        code ``bad_request``: a CHECK constraint refused a value, or PostgreSQL
    │                  (or asyncpg, encoding the query) could not take one: an integer out of
    │                  range, a NUL or a lone surrogate in text (SQLSTATE class 22), a value
    │                  too large for an index (54000)
    ├── Unavailable    code ``unavailable``: PostgreSQL cannot be reached, or did not answer
    │                  in time (a connect, query or pool wait timed out); nothing is known to
    │                  have changed, the caller may retry
    └── MigrationError code ``migration_failed``: a migration file is broken or was edited

``field`` names the offending column/body field when one is known. Nothing above the store
imports asyncpg (house style rule 12): :func:`translated` is the one place that looks at
SQLSTATE classes. It also tells :data:`auction.outage.POSTGRES` when PostgreSQL goes away (one
warning per outage, a counter per failed call) and when a call succeeds again (one line); the
``Unavailable`` it raises carries a fixed message, the details go to that one log line only.
A value PostgreSQL could not take means the API's input checks missed one (they are meant to
refuse it first, naming the field): it is answered as ``Invalid`` and logged as one warning
line, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from auction import outage
from auction.domain.inputs import printable

log = logging.getLogger("auction.store")


class StoreError(Exception):
    """Base of the tree. ``code`` is stable; ``message`` is Chinese text for people."""

    default_code = "store_error"
    default_message = "数据库操作失败"

    def __init__(
        self, code: str | None = None, message: str | None = None, field: str | None = None
    ) -> None:
        self.code = code or self.default_code
        self.message = message or self.default_message
        self.field = field
        super().__init__(f"{self.code}: {self.message}" + (f" ({field})" if field else ""))


class NotFound(StoreError):
    default_code = "not_found"
    default_message = "记录不存在"


class Conflict(StoreError):
    default_code = "conflict"
    default_message = "与已有记录冲突"


class Invalid(StoreError):
    default_code = "bad_request"
    default_message = "字段值不符合要求"


class Unavailable(StoreError):
    default_code = "unavailable"
    default_message = "数据库暂时不可用"


class MigrationError(StoreError):
    default_code = "migration_failed"
    default_message = "数据库迁移失败"


_SUFFIXES = ("_fkey", "_key", "_check")


def constraint_field(table: str | None, constraint: str | None) -> str | None:
    """The column a constraint is about, from PostgreSQL's default constraint names
    (``<table>_<columns>_key|_fkey|_check``); ``None`` when it cannot be told."""
    if not constraint:
        return None
    name = constraint
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if table and name.startswith(table + "_"):
        name = name[len(table) + 1 :]
    return name or None


def translate(exc: BaseException) -> StoreError | None:
    """The :class:`StoreError` for an asyncpg / connection exception, or ``None`` when the
    exception is not one the store knows how to name (a bug: let it propagate)."""
    if isinstance(exc, asyncpg.PostgresError):
        table = getattr(exc, "table_name", None)
        field = constraint_field(table, getattr(exc, "constraint_name", None))
        if isinstance(exc, asyncpg.UniqueViolationError):
            return Conflict("conflict", f"{field or '记录'} 已存在", field)
        if isinstance(exc, asyncpg.ForeignKeyViolationError):
            return NotFound("not_found", f"引用的 {field or '记录'} 不存在", field)
        if isinstance(exc, asyncpg.CheckViolationError):
            return Invalid("bad_request", f"{field or '字段'} 的值不符合要求", field)
        if isinstance(exc, asyncpg.NotNullViolationError):
            column = getattr(exc, "column_name", None)
            return Invalid("bad_request", f"{column or '字段'} 不能为空", column)
        if isinstance(exc, asyncpg.DataError | asyncpg.ProgramLimitExceededError):
            column = getattr(exc, "column_name", None)
            log.warning("PostgreSQL refused a value (an input check missed it): %s: %s",
                        type(exc).__name__, printable(str(exc), 300))
            what = f"字段 {column} 的值" if column else "字段值"
            return Invalid("bad_request", f"{what}无法保存 (超出范围或含有无法存储的字符)", column)
        if isinstance(exc, _UNAVAILABLE_SQLSTATES):
            return Unavailable()
        return None
    if isinstance(exc, OSError | asyncpg.InterfaceError | TimeoutError):
        # connection refused / reset, a connection closed under a query, and every timeout
        # of the pool (connect, command, acquire)
        return Unavailable()
    return None


#: server answers that mean "not now" rather than "not this": shutting down, starting up,
#: out of connections, or a query cancelled on the server's side (statement timeout)
_UNAVAILABLE_SQLSTATES = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.QueryCanceledError,
)


@contextmanager
def translated() -> Iterator[None]:
    """Run a block, re-raising known asyncpg failures as :class:`StoreError`."""
    try:
        yield
    except Unavailable:
        raise  # already reported where it was translated (nested blocks)
    except StoreError:
        outage.POSTGRES.ok()
        raise
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        if isinstance(mapped, Unavailable):
            outage.POSTGRES.failed(exc, where="store")
        else:
            outage.POSTGRES.ok()
        raise mapped from exc
    outage.POSTGRES.ok()
