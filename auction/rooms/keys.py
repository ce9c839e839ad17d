"""Every Redis key and channel name the engine uses, as functions of ids (house style rule 6).

All keys of one lot carry the lot id in a hash tag (``{lot:42}``) so that they hash to one Redis
Cluster slot and one Lua script may touch them together (invariant 7). Every name starts with the
deployment's namespace (``AUCTION_REDIS_NAMESPACE``, default ``auction``) so tests and several
deployments can share one Redis without seeing each other's keys.

Per lot:

- ``<ns>:{lot:<id>}:state``   hash   the room state (status, prices, leader, seq, epoch, ends_at …)
- ``<ns>:{lot:<id>}:events``  stream, one entry per event: id ``<seq>-0``, field ``e`` = msgpack
- ``<ns>:{lot:<id>}:idem``    hash   idempotency key → stored answer (``<fingerprint>|<answer>``)
- ``<ns>:{lot:<id>}:ch``      pub/sub channel carrying the same msgpack blob as the stream entry
- ``<ns>:{lot:<id>}:eligible`` hash  bidder id → ``1`` for every bidder who may bid on the lot
  (registration paid, a confirmed/held deposit covering the lot), plus ``written`` (the ticket of
  the sync that wrote it); pushed from PostgreSQL by :mod:`auction.rooms.eligibility`, read by
  ``bid.lua``
- ``<ns>:{lot:<id>}:book``    stream, private: one entry per write of the room's secret book (a
  proxy maximum or a sealed quote), id ``<n>-0`` (``n`` the write's order, the room's
  ``book_n``), field ``e`` = msgpack ``{n, seq, bidder, paddle, amount, rev, at}`` (``seq`` the
  room's seq when it was written); never published, read only by the drainer, which copies it
  to ``lot_book`` (docs/formats.md "The secret book's journal")
- ``<ns>:{lot:<id>}:staff``   pub/sub channel of the lot's staff frames (``missed_bid``: a msgpack
  map ``{lot, paddle, amount, late_ms}``); never in the event stream (:mod:`auction.rooms.presence`)
- ``<ns>:{lot:<id>}:viewers`` hash   process id → ``<sockets subscribed to the lot>:<written ms>``,
  rewritten every second by each process watching the lot; a field older than 3 s is a dead
  process's and is ignored and deleted (:mod:`auction.rooms.presence`)

Per session:

- ``<ns>:{session:<id>}:bidders`` sorted set: bidder id → when a process last saw a socket of
  that bidder connected with a bid credential of the session (ms); members older than 3 s are
  gone (:mod:`auction.rooms.presence`)

Global (each a single key, so each lives on one shard):

- ``<ns>:timed``    sorted set: open timed lots scored by a lower bound of their close time (ms)
- ``<ns>:active``   set: lots whose journal still has events to drain to PostgreSQL
- ``<ns>:lease:<name>`` string: a short lease held by the one process running a singleton loop
- ``<ns>:eligibility:<session id>`` string: counter handing out the tickets that order the
  eligibility pushes of a session's lots (a push older than the one stored is dropped)
- ``<ns>:eligibility:owed`` set: ``<session id>:<lot id>`` of rooms rebuilt from the journal
  whose eligible set is not pushed yet; written before the rebuild, removed after the push, so
  any process pushes what a failed push or a dead process left (:mod:`auction.rooms.recovery`)
- ``<ns>:hub``      pub/sub channel every fan-out hub subscribes to (nothing is published on it)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LotKeys:
    """The keys of one lot, in the order the Lua scripts expect them in ``KEYS``."""

    state: str
    events: str
    idem: str
    channel: str
    eligible: str
    staff: str
    viewers: str
    book: str

    def script_keys(self) -> list[str]:
        return [self.state, self.events, self.idem, self.channel]

    def bid_keys(self) -> list[str]:
        """``bid.lua`` (and ``open``, ``proxy``, ``accept``) also read the eligibility hash
        (``KEYS[5]``); the scripts that write the secret book journal it (``KEYS[6]``)."""
        return [*self.script_keys(), self.eligible, self.book]


@dataclass(frozen=True, slots=True)
class Keys:
    """Key factory for one namespace."""

    namespace: str = "auction"

    def lot(self, lot_id: int) -> LotKeys:
        tag = f"{self.namespace}:{{lot:{int(lot_id)}}}"
        return LotKeys(
            state=f"{tag}:state",
            events=f"{tag}:events",
            idem=f"{tag}:idem",
            channel=f"{tag}:ch",
            eligible=f"{tag}:eligible",
            staff=f"{tag}:staff",
            viewers=f"{tag}:viewers",
            book=f"{tag}:book",
        )

    def session_bidders(self, session_id: int) -> str:
        """The bidders of a session with a socket connected (any process), by last sighting."""
        return f"{self.namespace}:{{session:{int(session_id)}}}:bidders"

    def channel_lot_id(self, channel: str | bytes) -> int:
        """Inverse of ``lot(id).channel``: the lot id a pub/sub message arrived for."""
        name = channel.decode() if isinstance(channel, bytes) else channel
        start = name.index("{lot:") + 5
        return int(name[start : name.index("}", start)])

    def is_staff_channel(self, channel: str) -> bool:
        """Is ``channel`` some lot's ``staff`` channel (not its event channel)?"""
        return channel.startswith(f"{self.namespace}:{{lot:") and channel.endswith("}:staff")

    @property
    def hub_channel(self) -> str:
        """A channel every fan-out hub subscribes to, so its pub/sub connection is never idle
        of subscriptions (nothing is published on it)."""
        return f"{self.namespace}:hub"

    @property
    def timed(self) -> str:
        return f"{self.namespace}:timed"

    @property
    def active(self) -> str:
        return f"{self.namespace}:active"

    def lease(self, name: str) -> str:
        return f"{self.namespace}:lease:{name}"

    def eligibility_ticket(self, session_id: int) -> str:
        return f"{self.namespace}:eligibility:{int(session_id)}"

    @property
    def eligibility_owed(self) -> str:
        """The rebuilt rooms (``<session id>:<lot id>``) whose eligible set is owed a push."""
        return f"{self.namespace}:eligibility:owed"

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of this namespace (used by tests to clean up)."""
        return f"{self.namespace}:*"
