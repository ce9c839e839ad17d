"""Ids in paths and queries (docs/http-api.md "Ids"): an integer in ``1 .. 2^63 − 1``, or it is
answered like any unknown id (:mod:`auction.domain.inputs`).

:class:`IdConvertor` replaces Starlette's ``int`` path convertor for the whole process (it is
registered when :mod:`auction.api` is imported, before any route is built), so every
``{name:int}`` of every route — including ones added later — is bounded: ``/lots/-1``,
``/lots/0``, ``/lots/9223372036854775808`` and a 5,000-digit id all reach their handler as
:data:`~auction.domain.inputs.UNKNOWN_ID` and get that handler's "no such lot" answer, instead of
an asyncpg range error (a 500) or Python's limit on converting long digit strings.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from auction.domain.inputs import MAX_ID, UNKNOWN_ID, parse_id

__all__ = ["MAX_ID", "UNKNOWN_ID", "IdConvertor", "register"]


class IdConvertor(Convertor[int]):
    """``{name:int}``: an optionally negative run of digits; out of range → ``UNKNOWN_ID``."""

    regex = "-?[0-9]+"

    def convert(self, value: str) -> int:
        return parse_id(value)

    def to_string(self, value: int) -> str:
        return str(int(value))


def register() -> None:
    """Install :class:`IdConvertor` as ``int`` (idempotent). Routes built before this call keep
    Starlette's convertor, so it runs from ``auction/api/__init__.py``."""
    register_url_convertor("int", IdConvertor())
