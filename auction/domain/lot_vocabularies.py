"""The vocabularies of a lot's classification and of a party's nature, as data
(../shared/DOMAIN.md: tables are versioned data with a source and an effective date, not
constants of the rules).

The lists live in PostgreSQL (``vocabulary_terms``, migration 0017) and are read by
:mod:`auction.store.vocabularies` as of a day; this module holds their shape and the one pure
check every write of a lot makes (:meth:`Vocabularies.canonical`): a value is accepted when it
is a term's Chinese label, its key or one of its aliases, and is stored as the label. Anything
else is refused naming the field (``auction.api.admin.check_lot``: the lot create, the lot edit
and the spreadsheet import all go through it).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

#: the vocabularies a lot's fields are checked against (``party_nature`` is a party's)
LOT_FIELDS = ("result_type", "ip_type", "technology_field", "transaction_mode", "contract_type")
NAMES = (*LOT_FIELDS, "party_nature")


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    label: str
    label_en: str
    aliases: tuple[str, ...]
    effective_from: str
    source: str

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "label": self.label, "label_en": self.label_en,
                "aliases": list(self.aliases), "effective_from": self.effective_from,
                "source": self.source}


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One list as in force on a day, terms in their customary order."""

    field: str
    label: str
    label_en: str
    terms: tuple[Term, ...]
    _index: dict[str, str] = dc_field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for term in self.terms:
            for spelling in (term.key, *term.aliases, term.label):
                self._index[spelling] = term.label

    @property
    def values(self) -> tuple[str, ...]:
        """The labels, in order (what menus and the spreadsheet template offer)."""
        return tuple(t.label for t in self.terms)

    def canonical(self, value: str) -> str | None:
        """The label ``value`` stands for (label, key or alias, surrounding blanks ignored),
        else ``None``."""
        return self._index.get(value.strip())

    def to_json(self) -> dict[str, object]:
        return {"field": self.field, "label": self.label, "label_en": self.label_en,
                "terms": [t.to_json() for t in self.terms]}


@dataclass(frozen=True, slots=True)
class Vocabularies:
    """Every list as in force on ``as_of`` (ISO date)."""

    as_of: str
    lists: dict[str, Vocabulary]

    def get(self, name: str) -> Vocabulary | None:
        return self.lists.get(name)

    def __getitem__(self, name: str) -> Vocabulary:
        return self.lists[name]


class UnknownTerm(ValueError):
    """``value`` is not in the list of ``field``: the message names both."""

    code = "unknown_term"

    def __init__(self, field: str, label: str, value: str) -> None:
        self.field = field
        self.value = value
        self.message = f"字段 {field} ({label}) 的值「{value}」不在词表中"
        super().__init__(self.message)


def check(vocabularies: Vocabularies, name: str, value: str) -> str:
    """The stored label of ``value`` in list ``name``, or :class:`UnknownTerm`."""
    vocabulary = vocabularies[name]
    found = vocabulary.canonical(value)
    if found is None:
        raise UnknownTerm(name, vocabulary.label, value)
    return found
