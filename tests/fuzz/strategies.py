"""Hostile inputs for the fuzz tests: ids at and past every bound, text with NUL, control
characters, lone surrogates and odd Unicode, JSON and msgpack values of any shape.

Values are drawn mostly from hand-picked edges (``sampled_from``), so that a derandomized run of a
few hundred examples reaches each of them on each route, and partly from Hypothesis' own
generators, for what nobody thought of.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

MAX_ID = 2**63 - 1

#: ids around every bound: PostgreSQL bigint, msgpack's uint64, Python's int-from-str limit
EDGE_IDS: tuple[int, ...] = (
    0, -1, 1, MAX_ID, MAX_ID + 1, 2**64 - 1, 2**64, 10**30, -(2**63), -(2**63) - 1, 2**31,
)
#: ids a msgpack frame can carry (``-2^63 .. 2^64 − 1``)
WIRE_EDGE_IDS: tuple[int, ...] = tuple(i for i in EDGE_IDS if -(2**63) <= i < 2**64)

EDGE_TEXT: tuple[str, ...] = (
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\x1b[2J", "\x7f", "\u0085", "\t\n\r",
    "abc.dé", "abc.d\u00e9.f", "😀", "\u202e\u202d", "\ufeff", "\uffff", "%00", "%ff",
    "../../etc/passwd", "' OR 1=1 --", "\"; DROP TABLE lots; --", "${jndi:x}", "null",
    "-1", "9" * 30, "9" * 5000, "1e999", "NaN", "x" * 300, "名" * 6000, "<script>",
)

#: what msgpack can carry (no lone surrogates)
_PACKABLE_TEXT = tuple(t for t in EDGE_TEXT if not any("\ud800" <= c <= "\udfff" for c in t))

#: every field name of every documented JSON body (docs/http-api.md), so bodies reach the
#: field checks, not only "unknown field"
FIELD_NAMES: tuple[str, ...] = (
    "code", "slug", "name", "level", "parent_code", "market_code", "season", "mode",
    "starts_at", "extension_window_s", "extension_s", "title", "result_type", "ip_type",
    "technology_field", "transaction_mode", "contract_type", "holder_name", "holder_uscc",
    "start_price_fen", "increment_fen", "reserve_fen", "non_tech_fen", "duration_s",
    "description", "deposit_fen", "role", "uscc", "contact", "username", "password",
    "person_name", "resident_id", "bidder_id", "reason", "lot_id", "op", "key", "agent_name",
    "agent_resident_id", "all_dead", "state", "session_id", "registration_id",
    # issue 10/11 fields
    "args", "increments", "from_fen", "inc_fen", "kind", "phone", "legal_representative",
    "cookie", "old_password", "new_password", "agreed", "announcement", "terms",
    "contact_phone", "registration_deadline", "payee_name", "payee_bank", "payee_account",
    "appraisal_fen",
)


def weighted(*choices: tuple[st.SearchStrategy[Any], int]) -> st.SearchStrategy[Any]:
    """One of the strategies, each chosen in proportion to its weight (``one_of`` picks its
    branches evenly, and Hypothesis favours simple draws)."""
    pool = [strategy for strategy, weight in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


def any_text(*, surrogates: bool) -> st.SearchStrategy[str]:
    """Edge strings and generated ones (all of Unicode, lone surrogates when asked)."""
    if surrogates:
        return st.one_of(st.sampled_from(EDGE_TEXT),
                         st.text(st.characters(exclude_categories=()), max_size=24))
    return st.one_of(st.sampled_from(_PACKABLE_TEXT),
                     st.text(st.characters(codec="utf-8"), max_size=24))


def ids(real: tuple[int, ...], edges: tuple[int, ...] = EDGE_IDS,
        lo: int | None = None, hi: int | None = None) -> st.SearchStrategy[int]:
    """Ids that exist (``real``), ids at the bounds (most often), and any integer (within
    ``lo..hi``)."""
    edge = st.sampled_from(edges)
    return st.one_of(st.sampled_from(real), edge, edge, st.integers(min_value=lo, max_value=hi))


def url_part(value: str) -> str:
    """``value`` percent-encoded for a path segment or a query, lone surrogates as the (invalid)
    UTF-8 bytes they would be."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def path_values(real: tuple[int, ...]) -> st.SearchStrategy[str]:
    as_id = ids(real).map(str)
    return st.one_of(as_id, as_id, any_text(surrogates=True)).map(url_part)


def query_strings(real: tuple[int, ...]) -> st.SearchStrategy[str]:
    names = st.one_of(st.sampled_from(("session", "market", "state", "id")),
                      any_text(surrogates=True))
    values = st.one_of(ids(real).map(str), any_text(surrogates=True),
                       st.sampled_from(("370100", "released", "held")))
    pairs = st.lists(st.tuples(names, values), max_size=3)
    return pairs.map(lambda ps: "&".join(f"{url_part(k)}={url_part(v)}" for k, v in ps))


def json_values(real: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """Any JSON value, with edge ids, money amounts and text at the leaves."""
    leaves = st.one_of(
        st.none(), st.booleans(), ids(real), st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        any_text(surrogates=True),
        st.sampled_from(("open", "hammer", "pass", "auctioneer", "live", "timed", "spring",
                         "city", "转让", "技术转让", "2026-11-21T09:00:00+08:00")),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), any_text(surrogates=True)),
                            inner, max_size=4),
        ),
        max_leaves=12,
    )


def bodies(real: tuple[int, ...]) -> st.SearchStrategy[bytes | None]:
    """No body, raw bytes (invalid UTF-8 included), deep nesting, or JSON (``ensure_ascii``:
    lone surrogates travel as ``\\ud800`` escapes, NaN as ``NaN``) of any shape, most often an
    object keyed by documented field names."""
    objects = st.dictionaries(
        st.one_of(st.sampled_from(FIELD_NAMES), any_text(surrogates=True)),
        json_values(real), max_size=8,
    )
    as_json = st.one_of(objects, objects, json_values(real)).map(
        lambda v: json.dumps(v).encode()
    )
    raw = st.one_of(
        st.binary(max_size=64),
        st.sampled_from((b"{", b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000, b"{\"a\":" * 3000,
                         b" ", b"x" * 70_000, b"{\"name\": \"\\ud800\"}", b"1" * 5000)),
    )
    return st.one_of(st.none(), as_json, as_json, as_json, raw)


def _tamper(pair: tuple[str, int]) -> bytes:
    token, at = pair
    at %= len(token)
    return (token[:at] + ("B" if token[at] == "A" else "A") + token[at + 1:]).encode()


def header_tokens(valid: tuple[str, ...]) -> st.SearchStrategy[bytes | None]:
    """An ``Authorization`` value: none, a valid token (the first of ``valid``, the platform
    admin's, most often: it gets furthest), a bogus one (any bytes a header can carry:
    non-ASCII, dots, padding), or a valid one with a byte changed."""
    header_byte = st.integers(0x20, 0xFF).filter(lambda b: b != 0x7F)
    bogus = st.one_of(
        st.lists(header_byte, max_size=40).map(bytes),
        st.sampled_from((b"abc.d\xc3\xa9", b"abc.d\xe9", b"..", b".", b"a.b.c", b"x" * 2000)),
    )
    tampered = st.tuples(st.sampled_from(valid), st.integers(0, 10_000)).map(_tamper)
    admin = st.just(b"Bearer " + valid[0].encode())  # the first is the platform admin's
    return st.one_of(
        st.none(), admin, admin, st.sampled_from(valid).map(lambda t: b"Bearer " + t.encode()),
        bogus.map(lambda b: b"Bearer " + b), tampered.map(lambda b: b"Bearer " + b),
        st.sampled_from((b"Basic xx", b"Bearer", b"", valid[0].encode())),
    )


# -- websocket -----------------------------------------------------------------------------------

def msgpack_values(real: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """Anything msgpack can carry (no lone surrogates: they cannot be packed)."""
    leaves = st.one_of(
        st.none(), st.booleans(), ids(real, WIRE_EDGE_IDS, -(2**63), 2**64 - 1),
        st.floats(allow_nan=True), any_text(surrogates=False), st.binary(max_size=16),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(any_text(surrogates=False),
                                      ids(real, WIRE_EDGE_IDS, -(2**63), 2**64 - 1)),
                            inner, max_size=4),
        ),
        max_leaves=10,
    )
