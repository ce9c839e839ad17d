"""The vocabularies in force on a day (``vocabulary_terms``, ``vocabulary_names``; migration
0017), read into :class:`auction.domain.lot_vocabularies.Vocabularies`.

Read on each write of a lot (a handful of rows); nothing is cached, so a new edition inserted by
a migration holds from its ``effective_from`` without a restart.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from auction.domain.lot_vocabularies import Term, Vocabularies, Vocabulary
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

_TERMS = """
SELECT t.vocabulary, n.label AS list_label, n.label_en AS list_label_en, t.key, t.label,
       t.label_en, t.aliases, t.effective_from, t.source
FROM vocabulary_terms t JOIN vocabulary_names n ON n.vocabulary = t.vocabulary
WHERE t.effective_from <= $1 AND (t.effective_to IS NULL OR t.effective_to > $1)
ORDER BY t.vocabulary, t.position, t.key
"""


async def in_force(store: Store, on: date) -> Vocabularies:
    """Every list as in force on ``on``."""
    with translated():
        rows = await store.pool.fetch(_TERMS, on)
    grouped: dict[str, list[Term]] = {}
    names: dict[str, tuple[str, str]] = {}
    for r in rows:
        names[r["vocabulary"]] = (r["list_label"], r["list_label_en"])
        grouped.setdefault(r["vocabulary"], []).append(Term(
            key=r["key"], label=r["label"], label_en=r["label_en"],
            aliases=tuple(r["aliases"]), effective_from=r["effective_from"].isoformat(),
            source=r["source"],
        ))
    return Vocabularies(as_of=on.isoformat(), lists={
        name: Vocabulary(name, names[name][0], names[name][1], tuple(terms))
        for name, terms in grouped.items()
    })
