"""The Lua scripts and the Python rules are one rule set (house style rule 8).

Every case runs twice: once through the real scripts in Redis, once through
``auction.domain.room`` with ``now`` set to the server time the script used. Outcome (accepted or
the rejection code and its data), the appended events and the whole resulting state must be
identical. A shared case table covers each rule by name; a Hypothesis state machine explores
sequences, granting and revoking bidders' eligibility (R0) between commands.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from redis.asyncio import Redis

from auction.domain import book, commands, formats
from auction.domain import room as rules
from auction.domain.errors import Rejection
from auction.domain.lot import LotFormat, LotMode, LotStatus
from auction.domain.room import LotEvent, Outcome, RoomState
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms, _decode_reply

START, INC = 1_000_000, 10_000  # 1万元起拍, 100元一加
DEPOSIT = START // 10
ELIGIBLE = frozenset({1, 2, 3, 4})  # bidder 5 holds no covering deposit
COMMANDS = ("warn", "announce", "pause", "resume", "withdraw", "reopen", "undo")  # command.lua
#: a session's increment table whose bands a few bids cross (R8)
BANDS = "0:10000,1030000:20000,1060000:50000"
LONG = 10**13  # a reopen window that never runs out in a test


class Harness:
    """Runs commands against Lua (real Redis) and the model, from the same starting state."""

    def __init__(self, redis_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.redis = Redis.from_url(redis_url)
        self.keys = Keys(f"test-eq-{uuid.uuid4().hex[:10]}")
        self.rooms = Rooms(self.redis, self.keys)
        self.next_lot = 1
        self.last_outcome = ""

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        async def cleanup() -> None:
            async for key in self.redis.scan_iter(self.keys.pattern):
                await self.redis.delete(key)
            await self.redis.aclose()

        self.run(cleanup())
        self.loop.close()

    def server_now(self) -> int:
        sec, usec = self.run(self.redis.time())
        return int(sec) * 1000 + int(usec) // 1000

    def place(self, state: RoomState, eligible: frozenset[int] = ELIGIBLE) -> int:
        """Write ``state`` as a fresh lot's room, with ``eligible`` as the bidders who may bid
        (written as the eligibility push writes it); return the lot id."""
        lot = self.next_lot
        self.next_lot += 1
        fields = {k: (v.value if hasattr(v, "value") else str(v)) for k, v in asdict(state).items()}
        fields.update(epoch="e", session="1")
        self.run(self.redis.hset(self.keys.lot(lot).state, mapping=fields))
        self.run(self.redis.hset(self.keys.lot(lot).eligible, mapping={
            "written": "1", **{str(b): "1" for b in eligible},
        }))
        return lot

    def set_eligible(self, lot: int, bidder: int, eligible: bool) -> None:
        key = self.keys.lot(lot).eligible
        if eligible:
            self.run(self.redis.hset(key, str(bidder), "1"))
        else:
            self.run(self.redis.hdel(key, str(bidder)))

    def lua(self, lot: int, command: tuple[Any, ...]) -> tuple[str, int]:
        """Run ``command`` through the scripts; return (outcome, server time used)."""
        outcome, at, _ = self.lua_data(lot, command)
        return outcome, at

    def lua_data(self, lot: int, command: tuple[Any, ...]) -> tuple[str, int, dict[str, Any]]:
        """Run ``command`` through the scripts; (outcome, server time used, rejection data)."""
        name, *args = command
        try:
            if name in ("bid", "floor"):
                bidder, amount, *source = args
                acc = self.run(self.rooms.bid(
                    lot, bidder=bidder, paddle=100 + bidder, amount=amount,
                    source=source[0] if source else "online",
                ))
            elif name == "proxy":
                bidder, maximum = args
                acc = self.run(self.rooms.proxy(lot, bidder=bidder, paddle=100 + bidder,
                                                maximum=maximum))
            elif name == "accept":
                acc = self.run(self.rooms.accept(lot, bidder=args[0], paddle=100 + args[0]))
            elif name == "increment":
                op, amount = args
                arg = f"set:{amount}" if op == "set" else op
                acc = self.run(self.rooms.command(lot, "increment", arg))
            elif name == "finalize":
                acc = _decode_reply(self.run(self.rooms.scripts.finalize(
                    keys=self.keys.lot(lot).script_keys(), args=[args[0]])))
            elif name == "open":  # args: a timed lot's (ends_at, max_ext, hard_end), optional
                acc = self.run(self.rooms.open(lot, **_schedule(args)))
            elif name in COMMANDS:
                arg = str(args[0]) if args else ""
                acc = self.run(self.rooms.command(lot, name, arg))
            else:
                acc = self.run(self.rooms.close(lot, name))
        except Rejection as rej:
            data = {k: v for k, v in rej.data.items() if k != "at"}
            return rej.code, int(rej.data["at"]), data
        return "ok", acc.at, {}

    def model(
        self, state: RoomState, command: tuple[Any, ...], now: int,
        eligible: frozenset[int] = ELIGIBLE, log: list[LotEvent] | None = None,
    ) -> Outcome | Rejection:
        name, *args = command
        call: dict[str, Callable[[], Outcome]] = {
            "open": lambda: formats.open_lot(state, now, eligible=eligible,
                                              **_schedule(args)),
            "bid": lambda: formats.bid(state, args[0], 100 + args[0], args[1], now,
                                       eligible=eligible),
            "proxy": lambda: formats.set_proxy(state, args[0], 100 + args[0], args[1], now,
                                               eligible=eligible),
            "accept": lambda: formats.accept(state, args[0], 100 + args[0], now,
                                             eligible=args[0] in eligible),
            "timed": lambda: rules.close_timed(state, now),
            "hammer": lambda: rules.hammer(state, now),
            "pass": lambda: rules.pass_lot(state, now),
            "floor": lambda: formats.bid(state, args[0], 100 + args[0], args[1], now,
                                         eligible=eligible, source=args[2]),
            "warn": lambda: commands.warn(state, args[0], now),
            "announce": lambda: commands.announce(state, args[0], now),
            "pause": lambda: commands.pause(state, now),
            "resume": lambda: commands.resume(state, now),
            "withdraw": lambda: commands.withdraw(state, args[0], now),
            "reopen": lambda: commands.reopen(state, args[0], now),
            "undo": lambda: commands.undo(state, log or [], now),
            "increment": lambda: commands.change_increment(state, args[0], args[1], now),
            "finalize": lambda: commands.finalize(state, args[0], now),
        }
        try:
            return call[name]()
        except Rejection as rej:
            return rej

    def check(
        self, lot: int, before: RoomState, command: tuple[Any, ...],
        eligible: frozenset[int] = ELIGIBLE,
    ) -> RoomState:
        """Run both sides and assert they agree; return the state after."""
        log = self.run(self.rooms.events_after(lot, 0)) or []
        outcome, at, data = self.lua_data(lot, command)
        self.last_outcome = outcome
        expected = self.model(before, command, at, eligible, log)
        after = self.run(self.rooms.room_state(lot))
        events = self.run(self.rooms.events_after(lot, before.seq)) or []
        if isinstance(expected, Rejection):
            assert outcome == expected.code, f"{command}: lua {outcome}, model {expected.code}"
            if expected.code == "deposit_required":  # the nack's data, on both sides
                assert data == expected.data, f"{command}: lua {data}, model {expected.data}"
            assert after == before, f"{command}: a refused command changed the state"
            assert events == [], f"{command}: a refused command appended events"
            return before
        assert outcome == "ok", f"{command}: lua refused {outcome}, model accepted"
        assert after == expected.state, f"{command}:\n lua   {after}\n model {expected.state}"
        assert [e.to_map() for e in events] == [e.to_map() for e in expected.events]
        return after

    def check_burst(
        self, lot: int, before: RoomState, bids: list[tuple[int, int]],
        eligible: frozenset[int] = ELIGIBLE,
    ) -> RoomState:
        """Bids that arrive in one event-loop tick: the lot's lane sends them as one
        ``bid.lua`` call. Each must get the model's answer for the state the bids before it
        left (at the server time the script gave it); the state and the events after the
        call are the model's after all of them in order."""
        lanes, sizes = self.rooms.lanes, []
        real = lanes._call

        async def counted(lot_id: int, batch: Any) -> list[Any]:
            sizes.append(len(batch))
            return await real(lot_id, batch)

        async def send() -> list[Any]:
            futures = [lanes.submit(lot, bidder=b, paddle=100 + b, amount=a, idem="")
                       for b, a in bids]
            return list(await asyncio.gather(*futures, return_exceptions=True))

        lanes._call = counted  # type: ignore[method-assign]
        try:
            results = self.run(send())
        finally:
            del lanes._call
        # one call (twice the first time: NOSCRIPT, loaded, sent again)
        assert sizes and set(sizes) == {len(bids)} and len(sizes) <= 2, sizes
        state, expected_events = before, []
        for (bidder, amount), result in zip(bids, results, strict=True):
            command = ("bid", bidder, amount)
            if isinstance(result, Rejection):
                outcome, at = result.code, int(result.data["at"])
            elif isinstance(result, BaseException):
                raise result
            else:
                outcome, at = "ok", result.at
            expected = self.model(state, command, at, eligible)
            if isinstance(expected, Rejection):
                assert outcome == expected.code, (
                    f"{bids}: {command}: lua {outcome}, model {expected.code}")
                continue
            assert outcome == "ok", f"{bids}: {command}: lua refused {outcome}, model accepted"
            state = expected.state
            expected_events.extend(expected.events)
        after = self.run(self.rooms.room_state(lot))
        events = self.run(self.rooms.events_after(lot, before.seq)) or []
        assert after == state, f"{bids}:\n lua   {after}\n model {state}"
        assert [e.to_map() for e in events] == [e.to_map() for e in expected_events]
        return state


def _schedule(args: list[Any]) -> dict[str, int]:
    """``open``'s optional schedule arguments (``ends_at``, ``max_ext``, ``hard_end``)."""
    return dict(zip(("ends_at", "max_ext", "hard_end"), args, strict=False))


@pytest.fixture
def harness(redis_url: str) -> Iterator[Harness]:
    h = Harness(redis_url)
    yield h
    h.close()


def live(**kw: Any) -> RoomState:
    return RoomState(mode=LotMode.LIVE, start=START, **{"inc": INC, "deposit": DEPOSIT, **kw})


def timed(**kw: Any) -> RoomState:
    return RoomState(mode=LotMode.TIMED, start=START, inc=INC, window_ms=300_000, ext_ms=300_000,
                     duration_ms=600_000, **{"deposit": DEPOSIT, **kw})


OPEN = {"status": LotStatus.OPEN, "seq": 1, "opened_at": 1}
LED = {**OPEN, "seq": 2, "high": START, "leader": 1, "paddle": 101, "high_seq": 2, "bids": 1}
PAUSED = {**LED, "paused_at": 5}
SOLD = {**LED, "seq": 3, "status": LotStatus.SOLD, "closed_at": 7}

# (rule, state builder, ends_at offset from server now or None, command, expected outcome)
CASES: list[tuple[str, Callable[[], RoomState], int | None, tuple[Any, ...], str]] = [
    ("open a scheduled live lot", lambda: live(), None, ("open",), "ok"),
    ("open a scheduled timed lot sets ends_at", lambda: timed(), None, ("open",), "ok"),
    ("open twice", lambda: live(**OPEN), None, ("open",), "wrong_state"),
    ("R1 bid before open", lambda: live(), None, ("bid", 1, START), "lot_not_open"),
    ("R1 bid after sold", lambda: live(**{**LED, "status": LotStatus.SOLD}), None,
     ("bid", 2, START + INC), "lot_closed"),
    ("R1 bid after the clock", lambda: timed(**OPEN), -1, ("bid", 1, START), "lot_closed"),
    ("R2 first bid at start", lambda: live(**OPEN), None, ("bid", 1, START), "ok"),
    ("R2 first bid below start", lambda: live(**OPEN), None, ("bid", 1, START - INC),
     "below_start"),
    ("R2 first bid above start on the grid", lambda: live(**OPEN), None,
     ("bid", 1, START + 5 * INC), "ok"),
    ("R2 off the increment grid", lambda: live(**OPEN), None, ("bid", 1, START + 1),
     "off_increment"),
    ("R3 next bid at high + inc", lambda: live(**LED), None, ("bid", 2, START + INC), "ok"),
    ("R3 equal amount is too low (earlier bid wins)", lambda: live(**LED), None,
     ("bid", 2, START), "too_low"),
    ("R3 jump bid", lambda: live(**LED), None, ("bid", 2, START + 7 * INC), "ok"),
    ("R4 leader cannot outbid itself", lambda: live(**LED), None, ("bid", 1, START + INC),
     "already_leading"),
    ("bad amount zero", lambda: live(**OPEN), None, ("bid", 1, 0), "bad_amount"),
    ("bad amount negative", lambda: live(**OPEN), None, ("bid", 1, -START), "bad_amount"),
    ("bad amount above 10^15", lambda: live(**OPEN), None, ("bid", 1, 10**15 + 1), "bad_amount"),
    # the same amount rule (_common.lua fen_amount) for a proxy's maximum
    ("P1 proxy maximum zero", lambda: live(**OPEN), None, ("proxy", 1, 0), "bad_amount"),
    ("P1 proxy maximum above 10^15", lambda: live(**OPEN), None, ("proxy", 1, 10**15 + 1),
     "bad_amount"),
    ("P1 proxy maximum at 10^15", lambda: live(**OPEN), None, ("proxy", 1, 10**15), "ok"),
    ("R5 bid in the last window extends", lambda: timed(**OPEN), 60_000, ("bid", 1, START), "ok"),
    ("R5 bid before the window does not extend", lambda: timed(**OPEN), 3_600_000,
     ("bid", 1, START), "ok"),
    ("R6 timed close sold", lambda: timed(**LED), -1, ("timed",), "ok"),
    ("R6 timed close no bids", lambda: timed(**OPEN), -1, ("timed",), "ok"),
    ("R6 timed close under reserve", lambda: timed(**LED, reserve=START + INC), -1, ("timed",),
     "ok"),
    ("R7 timed close early", lambda: timed(**LED), 60_000, ("timed",), "not_due"),
    ("R7 timed close twice", lambda: timed(**{**LED, "status": LotStatus.SOLD}), -1, ("timed",),
     "lot_closed"),
    ("R7 hammer with a bid", lambda: live(**LED), None, ("hammer",), "ok"),
    ("R7 hammer without bids", lambda: live(**OPEN), None, ("hammer",), "no_bids"),
    ("R6 hammer under reserve passes", lambda: live(**LED, reserve=START * 2), None, ("hammer",),
     "ok"),
    ("R7 hammer a timed lot", lambda: timed(**LED), 60_000, ("hammer",), "wrong_mode"),
    ("R7 close a live lot by the clock", lambda: live(**LED), None, ("timed",), "wrong_mode"),
    ("R7 pass with bids", lambda: live(**LED), None, ("pass",), "ok"),
    ("R7 pass before open", lambda: live(), None, ("pass",), "lot_not_open"),
    ("R7 hammer twice", lambda: live(**{**LED, "status": LotStatus.SOLD}), None, ("hammer",),
     "lot_closed"),
    ("R0 bidder without a covering deposit", lambda: live(**OPEN), None, ("bid", 5, START),
     "deposit_required"),
    ("R0 before R1: not eligible, lot not open", lambda: live(), None, ("bid", 5, START),
     "deposit_required"),
    ("R0 before R1: not eligible, lot sold", lambda: live(**{**LED, "status": LotStatus.SOLD}),
     None, ("bid", 5, START + INC), "deposit_required"),
    ("R0 before R1: not eligible, clock run out", lambda: timed(**OPEN), -1, ("bid", 5, START),
     "deposit_required"),
    ("R0 before R2/R3: not eligible, amount too low", lambda: live(**LED), None,
     ("bid", 5, START), "deposit_required"),
    ("R0 after the amount check", lambda: live(**OPEN), None, ("bid", 5, 0), "bad_amount"),
    ("R0 requirement unknown (room older than the field)", lambda: live(**OPEN, deposit=0),
     None, ("bid", 5, START), "deposit_required"),
    ("C1 first warning", lambda: live(**LED), None, ("warn", 1), "ok"),
    ("C1 warnings may skip", lambda: live(**LED, warned=1), None, ("warn", 3), "ok"),
    ("C1 a warning repeated", lambda: live(**LED, warned=2), None, ("warn", 2), "wrong_state"),
    ("C1 a warning going back", lambda: live(**LED, warned=3), None, ("warn", 1), "wrong_state"),
    ("C1 a bid resets the warnings", lambda: live(**LED, warned=3), None,
     ("bid", 2, START + INC), "ok"),
    ("C1 warn a timed lot", lambda: timed(**LED), 60_000, ("warn", 1), "wrong_mode"),
    ("C1 warn before open", lambda: live(), None, ("warn", 1), "lot_not_open"),
    ("C1 warn a sold lot", lambda: live(**{**LED, "status": LotStatus.SOLD}), None, ("warn", 1),
     "lot_closed"),
    ("C1 warn a paused lot", lambda: live(**PAUSED), None, ("warn", 1), "lot_paused"),
    ("C2 announce on an open lot", lambda: live(**LED), None, ("announce", "注意 | 最后"), "ok"),
    ("C2 announce before open", lambda: live(), None, ("announce", "下一件"), "ok"),
    ("C2 announce on a paused lot", lambda: live(**PAUSED), None, ("announce", "稍候"), "ok"),
    ("C2 announce on a passed lot", lambda: live(**{**OPEN, "status": LotStatus.PASSED}), None,
     ("announce", "x"), "lot_closed"),
    ("C3 pause a live lot", lambda: live(**LED), None, ("pause",), "ok"),
    ("C3 pause a timed lot", lambda: timed(**LED), 60_000, ("pause",), "ok"),
    ("C3 pause a timed lot whose clock ran out", lambda: timed(**LED), -1, ("pause",),
     "lot_closed"),
    ("C3 pause twice", lambda: live(**PAUSED), None, ("pause",), "wrong_state"),
    ("C3 pause before open", lambda: live(), None, ("pause",), "lot_not_open"),
    ("C3 bid on a paused lot", lambda: live(**PAUSED), None, ("bid", 2, START + INC),
     "lot_paused"),
    ("C3 bid on a paused timed lot past its old end", lambda: timed(**PAUSED), -1,
     ("bid", 2, START + INC), "lot_paused"),
    ("C3 hammer a paused lot", lambda: live(**PAUSED), None, ("hammer",), "lot_paused"),
    ("C3 pass a paused lot", lambda: live(**PAUSED), None, ("pass",), "lot_paused"),
    ("C3 the clock does not close a paused lot", lambda: timed(**PAUSED), -1, ("timed",),
     "lot_paused"),
    ("C3 resume a live lot", lambda: live(**PAUSED), None, ("resume",), "ok"),
    ("C3 resume a timed lot moves ends_at", lambda: timed(**PAUSED), 60_000, ("resume",), "ok"),
    ("C3 resume a running lot", lambda: live(**LED), None, ("resume",), "wrong_state"),
    ("C3 resume a sold lot", lambda: live(**{**LED, "status": LotStatus.SOLD}), None,
     ("resume",), "lot_closed"),
    ("C4 withdraw a scheduled lot", lambda: live(), None, ("withdraw", "委托方撤回"), "ok"),
    ("C4 withdraw an open lot", lambda: timed(**LED), 60_000, ("withdraw", "权属争议"), "ok"),
    ("C4 withdraw a paused lot", lambda: live(**PAUSED), None, ("withdraw", "r"), "ok"),
    ("C4 withdraw a sold lot", lambda: live(**{**LED, "status": LotStatus.SOLD}), None,
     ("withdraw", "r"), "wrong_state"),
    ("C4 withdraw twice", lambda: live(**{**OPEN, "status": LotStatus.WITHDRAWN}), None,
     ("withdraw", "r"), "wrong_state"),
    ("C5 reopen a sold lot", lambda: live(**SOLD), None, ("reopen", LONG), "ok"),
    ("C5 reopen a passed lot", lambda: live(**{**SOLD, "status": LotStatus.PASSED}), None,
     ("reopen", LONG), "ok"),
    ("C5 reopen a final lot", lambda: live(**SOLD, final=1), None, ("reopen", LONG),
     "wrong_state"),
    ("C5 reopen after the window", lambda: live(**SOLD), None, ("reopen", 0), "wrong_state"),
    ("C5 reopen a timed lot", lambda: timed(**SOLD), None, ("reopen", LONG), "wrong_mode"),
    ("C5 reopen an open lot", lambda: live(**LED), None, ("reopen", LONG), "wrong_state"),
    ("C5 reopen a withdrawn lot", lambda: live(**{**SOLD, "status": LotStatus.WITHDRAWN}), None,
     ("reopen", LONG), "wrong_state"),
    ("C6 undo without a bid", lambda: live(**OPEN), None, ("undo",), "no_bids"),
    ("C6 undo on a timed lot", lambda: timed(**LED), 60_000, ("undo",), "wrong_mode"),
    ("C6 undo before open", lambda: live(), None, ("undo",), "lot_not_open"),
    ("C6 undo on a sold lot", lambda: live(**SOLD), None, ("undo",), "lot_closed"),
    ("C7 floor bid", lambda: live(**LED), None, ("floor", 2, START + INC, "floor"), "ok"),
    ("C7 phone bid first", lambda: live(**OPEN), None, ("floor", 3, START, "phone"), "ok"),
    ("C7 floor bid without a deposit", lambda: live(**LED), None,
     ("floor", 5, START + INC, "floor"), "deposit_required"),
    ("C7 floor bid too low", lambda: live(**LED), None, ("floor", 2, START, "floor"), "too_low"),
    ("C8 set the increment", lambda: live(**LED), None, ("increment", "set", 30_000), "ok"),
    ("C8 halve", lambda: live(**LED), None, ("increment", "halve", 0), "ok"),
    ("C8 double before open", lambda: live(), None, ("increment", "double", 0), "ok"),
    ("C8 reset", lambda: live(**LED, inc=30_000, inc_override=30_000), None,
     ("increment", "reset", 0), "ok"),
    ("C8 halve 1 fen", lambda: live(**LED, inc=1, inc_override=1), None,
     ("increment", "halve", 0), "wrong_state"),
    ("C8 double past 10^15", lambda: live(**LED, inc=10**15, inc_override=10**15), None,
     ("increment", "double", 0), "wrong_state"),
    ("C8 change a sold lot's increment", lambda: live(**SOLD), None,
     ("increment", "set", 5), "lot_closed"),
    ("R8 a bid on the grid of the set increment", lambda: live(**LED, inc=30_000,
     inc_override=30_000), None, ("bid", 2, START + 60_000), "ok"),
    ("R8 a bid off the grid of the set increment", lambda: live(**LED, inc=30_000,
     inc_override=30_000), None, ("bid", 2, START + 40_000), "off_increment"),
    ("R8 a bid into the next band", lambda: live(**LED, bands=BANDS), None,
     ("bid", 2, START + 3 * INC), "ok"),
    ("R8 a bid past two bands", lambda: live(**LED, bands=BANDS), None,
     ("bid", 2, START + 9 * INC), "ok"),
    ("R8 the override holds across bands", lambda: live(**LED, bands=BANDS, inc=INC,
     inc_override=INC), None, ("bid", 2, START + 9 * INC), "ok"),
    ("R8 reset to the table's band", lambda: live(**{**LED, "high": START + 9 * INC}, inc=INC,
     inc_override=INC, bands=BANDS), None, ("increment", "reset", 0), "ok"),
    ("C9 finalize a live lot within the window", lambda: live(**SOLD), None,
     ("finalize", LONG), "not_due"),
    ("C9 finalize a live lot after the window", lambda: live(**SOLD), None, ("finalize", 0),
     "ok"),
    ("C9 finalize a timed lot", lambda: timed(**SOLD), None, ("finalize", LONG), "ok"),
    ("C9 finalize a withdrawn lot", lambda: live(**{**SOLD, "status": LotStatus.WITHDRAWN}),
     None, ("finalize", LONG), "ok"),
    ("C9 finalize an open lot", lambda: live(**LED), None, ("finalize", 0), "wrong_state"),
]


@pytest.mark.parametrize(("rule", "build", "ends_in", "command", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_case_table(harness: Harness, rule: str, build: Callable[[], RoomState],
                    ends_in: int | None, command: tuple[Any, ...], expected: str) -> None:
    """Each rule gives the same outcome, events and state in Lua and in Python."""
    state = build()
    if ends_in is not None:
        state = replace(state, ends_at=harness.server_now() + ends_in)
    lot = harness.place(state)
    outcome, _ = harness.lua(lot, command)
    assert outcome == expected, rule
    # and once more from the same state through the full comparison
    lot = harness.place(state)
    harness.check(lot, state, command)


# (rule, extensions so far, cap, close in ms from now, hard end in ms from now or None)
CAPS: list[tuple[str, int, int, int, int | None]] = [
    ("no cap: the 9th extension", 8, -1, 60_000, None),
    ("below the cap extends", 1, 2, 60_000, None),
    ("at the cap: no extension", 2, 2, 60_000, None),
    ("cap 0: never extended", 0, 0, 60_000, None),
    ("the hard end shortens the extension", 0, -1, 60_000, 120_000),
    ("at the hard end: no extension", 0, -1, 60_000, 60_000),
    ("the hard end before the close: no extension", 0, 3, 60_000, 30_000),
    ("outside the window: neither", 0, 0, 3_600_000, 7_200_000),
]


@pytest.mark.parametrize(("rule", "done", "cap", "ends_in", "hard_in"), CAPS,
                         ids=[c[0] for c in CAPS])
def test_extension_caps(harness: Harness, rule: str, done: int, cap: int, ends_in: int,
                        hard_in: int | None) -> None:
    """R5's cap and hard end (issue 15): Lua and the model extend alike, and as the rule says."""
    now = harness.server_now()
    hard = 0 if hard_in is None else now + hard_in
    state = timed(**LED, extensions=done, max_ext=cap, hard_end=hard, ends_at=now + ends_in)
    lot = harness.place(state)
    after = harness.check(lot, state, ("bid", 2, START + INC))
    capped = (0 <= cap <= done) or ends_in > state.window_ms or (hard and hard <= state.ends_at)
    if capped:
        assert after.ends_at == state.ends_at and after.extensions == done, rule
    else:
        assert after.extensions == done + 1, rule
        assert after.ends_at > state.ends_at, rule
        assert after.ends_at <= (hard or after.ends_at), rule
        if hard:
            assert after.ends_at == min(hard, after.ends_at), rule


def test_open_on_a_schedule(harness: Harness) -> None:
    """A timed lot opened on its session's schedule closes at the planned time (not after the
    hard end), and ``opened`` names its caps; a planned close already past gives the duration."""
    now = harness.server_now()
    for planned, cap, hard, expect in (
        (now + 3_600_000, 2, 0, now + 3_600_000),
        (now + 3_600_000, -1, now + 1_800_000, now + 1_800_000),
        (now - 1_000, 0, 0, None),
    ):
        state = timed()
        lot = harness.place(state)
        after = harness.check(lot, state, ("open", planned, cap, hard))
        assert after.max_ext == cap and after.hard_end == hard
        if expect is not None:
            assert after.ends_at == expect
        else:
            assert after.ends_at >= now + state.duration_ms
        opened = (harness.run(harness.rooms.events_after(lot, 0)) or [])[0]
        assert opened.data.get("max_ext", -1) == cap and opened.data.get("hard_end", 0) == hard


def test_lua_events_have_gapless_seq(harness: Harness) -> None:
    """Accepted commands append exactly the events the model predicts, seq 1, 2, 3 …"""
    state = timed()
    lot = harness.place(state)
    for command in [("open",), ("bid", 1, START), ("bid", 2, START), ("bid", 2, START + INC)]:
        state = harness.check(lot, state, command)
    events: list[LotEvent] = harness.run(harness.rooms.events_after(lot, 0))
    assert [e.seq for e in events] == list(range(1, state.seq + 1))


UNDO_SCENARIO: list[tuple[tuple[Any, ...], str]] = [
    (("open",), "ok"), (("bid", 1, START), "ok"), (("bid", 2, START + INC), "ok"),
    (("floor", 3, START + 3 * INC, "phone"), "ok"),  # into the next band (R8)
    (("undo",), "ok"),  # back to 2's bid, the increment with it
    (("bid", 1, START + 2 * INC), "ok"), (("undo",), "ok"), (("undo",), "ok"),
    (("pause",), "ok"), (("undo",), "ok"),  # no bid left: the next is the start price
    (("undo",), "no_bids"), (("resume",), "ok"), (("bid", 4, START), "ok"),
    (("warn", 2), "ok"), (("undo",), "ok"), (("warn", 1), "ok"),
    (("bid", 2, START), "ok"), (("hammer",), "ok"), (("undo",), "lot_closed"),
    (("reopen", LONG), "ok"), (("bid", 3, START + INC), "ok"), (("pass",), "ok"),
    (("reopen", LONG), "ok"), (("undo",), "ok"), (("hammer",), "ok"),
    (("finalize", LONG), "not_due"), (("finalize", 0), "ok"), (("reopen", LONG), "wrong_state"),
]


def test_undo_and_reopen_scenario(harness: Harness) -> None:
    """C5/C6 read the lot's own log: repeated undos, newest first, across reopens and a band
    change, agree in Lua and in the model step by step; the log keeps every retracted bid."""
    state = live(bands=BANDS)
    lot = harness.place(state)
    for command, expected in UNDO_SCENARIO:
        state = harness.check(lot, state, command)
        assert harness.last_outcome == expected, command
    events = harness.run(harness.rooms.events_after(lot, 0)) or []
    assert len(events) == state.seq
    assert sum(e.kind == "bid" for e in events) == 7
    assert sum(e.kind == "bid_retracted" for e in events) == 6
    assert state.high == START and state.paddle == 102 and state.final == 1


def test_room_without_an_eligibility_push_refuses_everyone(harness: Harness) -> None:
    """A lot nobody pushed an eligible set for yet is closed to all bidders (never open by
    default), and a room older than the requirement field names no ``required_fen``."""
    lot = harness.place(live(**OPEN))
    harness.run(harness.redis.delete(harness.keys.lot(lot).eligible))
    harness.run(harness.redis.hdel(harness.keys.lot(lot).state, "deposit"))
    outcome, _, data = harness.lua_data(lot, ("bid", 1, START))
    assert (outcome, data) == ("deposit_required", {})
    state = harness.run(harness.rooms.room_state(lot))
    assert state is not None and state.deposit == 0
    assert isinstance(harness.model(state, ("bid", 1, START), 0, frozenset()), Rejection)


def test_deposit_required_is_not_kept_under_the_key(harness: Harness) -> None:
    """A bid refused for want of a deposit may be sent again with the same key once the
    bidder is eligible, and is then accepted (the refusal was not stored as the answer)."""
    lot = harness.place(live(**OPEN), eligible=frozenset())
    bid = harness.rooms.bid(lot, bidder=1, paddle=101, amount=START, idem="b1:k")
    with pytest.raises(Rejection) as refused:
        harness.run(bid)
    assert refused.value.code == "deposit_required"
    assert refused.value.data["required_fen"] == DEPOSIT
    harness.set_eligible(lot, 1, True)
    accepted = harness.run(harness.rooms.bid(lot, bidder=1, paddle=101, amount=START,
                                             idem="b1:k"))
    assert accepted.seq == 2 and not accepted.replay


class RoomMachine(RuleBasedStateMachine):
    """Random command sequences on one lot: Lua and the model never disagree."""

    harness: Harness

    def __init__(self) -> None:
        super().__init__()
        self.lot = 0
        self.state = live()
        self.eligible = ELIGIBLE
        self.schedule: tuple[int, int, int] = (0, -1, 0)

    @initialize(
        mode=st.sampled_from([LotMode.LIVE, LotMode.TIMED]),
        reserve=st.sampled_from([0, START, START + 3 * INC]),
        duration=st.sampled_from([0, 200, 60_000, 3_600_000]),
        window=st.sampled_from([0, 100_000, 300_000]),
        bands=st.sampled_from(["", BANDS]),
        opened=st.sampled_from([True, True, True, False]),
        cap=st.sampled_from([-1, -1, 0, 1, 2]),
        hard=st.sampled_from([0, 0, 150_000, 3_600_000]),
        planned=st.sampled_from([0, 0, -5_000, 120_000, 7_200_000]),
    )
    def setup(self, mode: LotMode, reserve: int, duration: int, window: int, bands: str,
              opened: bool, cap: int, hard: int, planned: int) -> None:
        self.state = RoomState(mode=mode, start=START, inc=INC, reserve=reserve,
                               window_ms=window, ext_ms=window, duration_ms=duration,
                               deposit=DEPOSIT, bands=bands, inc0=INC)
        self.lot = self.harness.place(self.state, self.eligible)
        # a timed lot's schedule (issue 15): its planned close (one already past gives the
        # duration), the cap on extensions and the hard end
        now = self.harness.server_now()
        self.schedule = (now + planned if planned else 0, cap, now + hard if hard else 0)
        if opened:  # most sequences start with bidding: they explore more than an unopened lot
            self.open()

    def _step(self, *command: Any) -> None:
        self.state = self.harness.check(self.lot, self.state, command, self.eligible)

    @rule(bidder=st.integers(1, 5), grant=st.booleans())
    def eligibility_pushed(self, bidder: int, grant: bool) -> None:
        """A deposit confirmed (grant) or released / forfeited (revoke) between commands."""
        self.harness.set_eligible(self.lot, bidder, grant)
        self.eligible = self.eligible | {bidder} if grant else self.eligible - {bidder}

    @rule()
    def open(self) -> None:
        self._step("open", *self.schedule)

    @rule(bidder=st.integers(1, 5), steps=st.integers(-1, 3), skew=st.sampled_from([0, 0, 0, 1]))
    def bid(self, bidder: int, steps: int, skew: int) -> None:
        base = self.state.next_minimum()
        self._step("bid", bidder, base + steps * self.state.inc + skew)

    @rule(bidder=st.integers(1, 5), steps=st.integers(0, 2),
          source=st.sampled_from(["floor", "phone"]))
    def floor(self, bidder: int, steps: int, source: str) -> None:
        self._step("floor", bidder, self.state.next_minimum() + steps * self.state.inc, source)

    @rule(bids=st.lists(st.tuples(st.integers(1, 5), st.integers(-1, 2)), min_size=2,
                        max_size=6))
    def burst(self, bids: list[tuple[int, int]]) -> None:
        """Several bids in one tick (one ``bid.lua`` call): the i-th aims i steps above the
        minimum before the burst, give or take, so some are overtaken and some not."""
        base, inc = self.state.next_minimum(), self.state.inc
        self.state = self.harness.check_burst(
            self.lot, self.state,
            [(bidder, base + (i + steps) * inc) for i, (bidder, steps) in enumerate(bids)],
            self.eligible)

    @rule()
    def undo(self) -> None:
        self._step("undo")

    @rule(window=st.sampled_from([0, LONG]))
    def reopen(self, window: int) -> None:
        self._step("reopen", window)

    @rule(window=st.sampled_from([0, LONG]))
    def finalize(self, window: int) -> None:
        self._step("finalize", window)

    @rule(op=st.sampled_from(["set", "halve", "double", "reset"]),
          amount=st.sampled_from([1, 5_000, 30_000]))
    def increment(self, op: str, amount: int) -> None:
        self._step("increment", op, amount if op == "set" else 0)

    @rule(amount=st.integers(-(10**16), 10**16))
    def wild_bid(self, amount: int) -> None:
        self._step("bid", 3, amount)

    @rule(op=st.sampled_from(["hammer", "pass", "timed"]))
    def close(self, op: str) -> None:
        self._step(op)

    @rule(n=st.integers(1, 3))
    def warn(self, n: int) -> None:
        self._step("warn", n)

    @rule(text=st.sampled_from(["注意", "a|b", "最后一次机会"]))
    def announce(self, text: str) -> None:
        self._step("announce", text)

    @rule(op=st.sampled_from(["pause", "resume"]))
    def pause_or_resume(self, op: str) -> None:
        self._step(op)

    @rule(dice=st.integers(0, 4))
    def withdraw(self, dice: int) -> None:
        if dice == 0:  # rarely: it ends the lot for good
            self._step("withdraw", "委托方撤回")

    @invariant()
    def seq_counts_events(self) -> None:
        if self.lot:
            events = self.harness.run(self.harness.rooms.events_after(self.lot, 0)) or []
            assert len(events) == self.state.seq


def test_state_machine(harness: Harness) -> None:
    """Hypothesis explores command sequences; both implementations stay identical."""
    RoomMachine.harness = harness
    test = RoomMachine.TestCase
    test.settings = settings(max_examples=250, stateful_step_count=25, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()


class LiveConsoleMachine(RuleBasedStateMachine):
    """A live lot under the console: bids (online and floor), undos, warnings, hammers, passes,
    reopens and increment changes, densely (every bidder eligible, the lot open from the start),
    so that long undo / reopen histories are explored; Lua and the model never disagree."""

    harness: Harness

    def __init__(self) -> None:
        super().__init__()
        self.lot = 0
        self.state = live()

    @initialize(reserve=st.sampled_from([0, START + 2 * INC]), bands=st.sampled_from(["", BANDS]))
    def setup(self, reserve: int, bands: str) -> None:
        self.state = live(reserve=reserve, bands=bands, inc0=INC)
        self.lot = self.harness.place(self.state)
        self._step("open")

    def _step(self, *command: Any) -> None:
        self.state = self.harness.check(self.lot, self.state, command)

    @rule(bidder=st.integers(1, 4), steps=st.integers(0, 4), source=st.sampled_from(
        ["online", "online", "floor", "phone"]))
    def bid(self, bidder: int, steps: int, source: str) -> None:
        amount = self.state.next_minimum() + steps * self.state.inc
        self._step("floor", bidder, amount, source)

    @rule()
    def undo(self) -> None:
        self._step("undo")

    @rule(n=st.integers(1, 3))
    def warn(self, n: int) -> None:
        self._step("warn", n)

    @rule(op=st.sampled_from(["hammer", "pass"]))
    def close(self, op: str) -> None:
        self._step(op)

    @rule(window=st.sampled_from([LONG, LONG, LONG, 0]))
    def reopen(self, window: int) -> None:
        self._step("reopen", window)

    @rule(op=st.sampled_from(["set", "halve", "double", "reset"]))
    def increment(self, op: str) -> None:
        self._step("increment", op, 30_000 if op == "set" else 0)

    @rule(op=st.sampled_from(["pause", "resume"]))
    def pause_or_resume(self, op: str) -> None:
        self._step(op)

    @invariant()
    def standing_bids_are_the_log(self) -> None:
        if self.lot:
            log = self.harness.run(self.harness.rooms.events_after(self.lot, 0)) or []
            standing = commands.standing_bids(log)
            assert self.state.bids == len(standing)
            assert self.state.high == (int(standing[-1].data["amount"]) if standing else 0)


def test_live_console_machine(harness: Harness) -> None:
    """Hypothesis explores the console's commands on a live lot; both implementations agree."""
    LiveConsoleMachine.harness = harness
    test = LiveConsoleMachine.TestCase
    test.settings = settings(max_examples=120, stateful_step_count=30, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()


# ---- formats (issue 14: auction/domain/formats.py; docs/formats.md P, S, D rules) -------------

def sealed(**kw: Any) -> RoomState:
    return live(**{"format": LotFormat.SEALED, **kw})


def dutch(**kw: Any) -> RoomState:
    return live(**{"format": LotFormat.DUTCH, "step": 100_000, "interval_ms": 60_000,
                   "floor": START // 2, **kw})


def test_proxy_war(harness: Harness) -> None:
    """Two proxies and a live bidder: automatic bids in the same call, the earlier equal
    maximum holding, Lua and the model identical step by step, and the standing result."""
    state = live(bands="")
    lot = harness.place(state)
    steps: list[tuple[tuple[Any, ...], str]] = [
        (("open",), "ok"),
        (("proxy", 1, START + 5 * INC), "ok"),  # 1 bids the start at once (P2)
        (("proxy", 2, START + 8 * INC), "ok"),  # 2 bids 1's maximum + inc = START + 6 INC
        (("bid", 3, START + 7 * INC), "ok"),  # 2's proxy answers at its maximum, 8 INC
        (("proxy", 1, START + 8 * INC), "too_low"),  # the next valid bid is 9 INC
        (("proxy", 4, START + 10 * INC), "ok"),  # 4 beats 2: 2's maximum + inc = 9 INC
        (("proxy", 2, START + 10 * INC), "ok"),  # equal to 4's, set later: 4 holds at 10
        (("proxy", 4, START + 9 * INC), "too_low"),  # below 4's own standing bid
        (("bid", 3, START + 11 * INC), "ok"),  # the live bidder tops every maximum
        (("hammer",), "ok"),
    ]
    for command, expected in steps:
        state = harness.check(lot, state, command)
        assert harness.last_outcome == expected, command
    events = harness.run(harness.rooms.events_after(lot, 0)) or []
    bids = [(e.data["paddle"], e.data["amount"], bool(e.data.get("auto"))) for e in events
            if e.kind == "bid"]
    assert bids == [
        (101, START, True), (102, START + 6 * INC, True), (103, START + 7 * INC, False),
        (102, START + 8 * INC, True), (104, START + 9 * INC, True),
        (104, START + 10 * INC, True), (103, START + 11 * INC, False),
    ]
    assert events[-1].kind == "sold" and events[-1].data["paddle"] == 103
    # P5: no event names a maximum
    assert all("max" not in e.data for e in events)
    assert state.proxies == 3


def test_proxy_bids_extend_like_manual_ones(harness: Harness) -> None:
    """R5 with the session's cap and hard end (issue 15) holds for a proxy's automatic bids
    (issue 14) as for manual ones: in Lua and the model alike, an automatic bid in the last
    window does not extend past the cap nor past the hard end."""
    # the cap: a manual bid takes the one extension allowed; the proxy's answers take none
    state = replace(timed(), duration_ms=200_000)  # every bid is in the 300 s window
    lot = harness.place(state)
    state = harness.check(lot, state, ("open", 0, 1, 0))
    state = harness.check(lot, state, ("bid", 2, START))
    assert state.extensions == 1
    capped = state.ends_at
    for command in [("proxy", 1, START + 5 * INC), ("bid", 2, START + 2 * INC)]:
        state = harness.check(lot, state, command)
        assert harness.last_outcome == "ok", command
    assert state.leader == 1 and state.high == START + 3 * INC  # automatic bids were placed
    assert state.extensions == 1 and state.ends_at == capped
    # the hard end: the proxy's automatic bid moves the close to the hard end exactly, once
    state = replace(timed(), duration_ms=200_000)
    lot = harness.place(state)
    hard = harness.server_now() + 250_000
    state = harness.check(lot, state, ("open", 0, -1, hard))
    state = harness.check(lot, state, ("proxy", 1, START + 5 * INC))  # bids the start (P2)
    assert state.bids == 1 and state.ends_at == hard and state.extensions == 1
    state = harness.check(lot, state, ("bid", 2, START + INC))  # 1's proxy answers
    assert state.leader == 1 and state.ends_at == hard and state.extensions == 1
    events = harness.run(harness.rooms.events_after(lot, 0)) or []
    assert [e.data["ends_at"] for e in events if e.kind == "extended"] == [hard]


def test_scheduled_dutch_and_rounds_keep_their_own_clocks(harness: Harness) -> None:
    """A Dutch or rounds lot opened on a timed session's schedule (the scheduler passes the
    planned close, cap and hard end) runs on its own clock and records no schedule."""
    now = harness.server_now()
    for state in (replace(dutch(), mode=LotMode.TIMED, duration_ms=600_000),
                  replace(rounds(), mode=LotMode.TIMED, duration_ms=600_000)):
        lot = harness.place(state)
        after = harness.check(lot, state, ("open", now + 3_600_000, 1, now + 1_800_000))
        assert after.max_ext == -1 and after.hard_end == 0
        opened = (harness.run(harness.rooms.events_after(lot, 0)) or [])[0]
        assert "max_ext" not in opened.data and "hard_end" not in opened.data
        own = state.free_ms if state.format is LotFormat.ROUNDS else book.dutch_span(
            state.start, state.step, state.interval_ms, state.floor)
        assert after.ends_at == after.opened_at + own


def test_sealed_revisions_and_tie(harness: Harness) -> None:
    """Quotes with one revision, a tie won by the earlier quote, revealed at the close."""
    state = sealed(revisions=1, reserve=START + INC)
    lot = harness.place(state)
    steps: list[tuple[tuple[Any, ...], str]] = [
        (("open",), "ok"),
        (("bid", 1, START + 3 * INC), "ok"),
        (("bid", 2, START + 5 * INC), "ok"),
        (("bid", 1, START + 5 * INC), "ok"),  # 1 revises to equal 2's: later, loses the tie
        (("bid", 1, START + 9 * INC), "no_revisions_left"),
        (("bid", 3, START - 1), "below_start"),
        (("bid", 3, START + 1), "ok"),  # no grid for quotes
        (("proxy", 3, START * 2), "wrong_format"),
        (("undo",), "wrong_format"),
        (("hammer",), "ok"),
        (("reopen", LONG), "wrong_format"),
    ]
    for command, expected in steps:
        state = harness.check(lot, state, command)
        assert harness.last_outcome == expected, command
    events = harness.run(harness.rooms.events_after(lot, 0)) or []
    public = [e for e in events if e.kind == "quote_received"]
    assert [e.data for e in public] == [{"count": 1}, {"count": 2}, {"count": 2}, {"count": 3}]
    revealed = [(e.data["paddle"], e.data["amount"]) for e in events if e.kind == "bid"]
    assert revealed == [(103, START + 1), (101, START + 5 * INC), (102, START + 5 * INC)]
    assert events[-1].kind == "sold" and events[-1].data["paddle"] == 102


def test_dutch_first_accept_wins(harness: Harness) -> None:
    """Two acceptances: the first takes the lot at the price of the clock, the second is
    refused; bids, proxies and pauses do not fit the format."""
    state = dutch()
    lot = harness.place(state)
    for command, expected in [
        (("accept", 1), "lot_not_open"), (("open",), "ok"), (("bid", 1, START), "wrong_format"),
        (("proxy", 1, START), "wrong_format"), (("pause",), "wrong_format"),
        (("accept", 5), "deposit_required"), (("accept", 2), "ok"), (("accept", 1), "lot_closed"),
    ]:
        state = harness.check(lot, state, command)
        assert harness.last_outcome == expected, command
    assert state.status is LotStatus.SOLD and state.paddle == 102 and state.high == START


def test_dutch_price_falls_and_floor_passes(harness: Harness) -> None:
    """The price is the clock's (D2), the lot passes after the floor's interval (D4)."""
    opened = harness.server_now() - 150_000  # 2 drops ago
    state = dutch(status=LotStatus.OPEN, seq=1, opened_at=opened,
                  ends_at=opened + (5 + 1) * 60_000)
    lot = harness.place(state)
    state = harness.check(lot, state, ("accept", 3))
    assert state.high == START - 2 * 100_000
    gone = dutch(status=LotStatus.OPEN, seq=1, opened_at=opened - 10**6, ends_at=opened)
    lot = harness.place(gone)
    assert harness.check(lot, gone, ("accept", 3)).status is LotStatus.OPEN
    assert harness.last_outcome == "lot_closed"
    after = harness.check(lot, gone, ("timed",))
    assert after.status is LotStatus.PASSED


def test_absentee_proxies_bid_at_the_opening(harness: Harness) -> None:
    """P1, P2: proxies set on a scheduled lot (absentee bids) wait; the opening lets them bid
    in the same call (equal maxima: the earlier set leads at that amount)."""
    state = live()
    lot = harness.place(state)
    for command, expected in [
        (("proxy", 1, START - 1), "below_start"), (("proxy", 1, START + 4 * INC), "ok"),
        (("proxy", 2, START + 4 * INC), "ok"), (("proxy", 5, START), "deposit_required"),
        (("open",), "ok"),
    ]:
        state = harness.check(lot, state, command)
        assert harness.last_outcome == expected, command
    assert (state.paddle, state.high) == (101, START + 4 * INC)
    events = harness.run(harness.rooms.events_after(lot, 0)) or []
    assert [e.kind for e in events][:2] == ["opened", "bid"]


def test_preemptive_rights(harness: Harness) -> None:
    """R9: a holder equals the high and leads; a better order equals a lesser holder; the same
    or a worse order, or no right, may not; the equal bid is marked preempt."""
    state = live(holders="2:1,3:2")
    lot = harness.place(state)
    for command, expected in [
        (("open",), "ok"), (("bid", 3, START), "ok"), (("bid", 2, START), "ok"),  # a first bid
        # is never an equal one: 2 (order 1) equals 3 (order 2)
        (("bid", 3, START), "too_low"), (("bid", 4, START), "too_low"),
        (("bid", 1, START + INC), "ok"), (("bid", 3, START + INC), "ok"),
        (("bid", 2, START + INC), "ok"), (("bid", 3, START + INC), "too_low"),
        (("bid", 3, START + INC + 1), "too_low"), (("bid", 4, START + 2 * INC), "ok"),
        (("floor", 3, START + 2 * INC, "phone"), "ok"),
    ]:
        state = harness.check(lot, state, command)
        assert harness.last_outcome == expected, command
    events = harness.run(harness.rooms.events_after(lot, 0)) or []
    marked = [(e.data["paddle"], e.data["amount"]) for e in events
              if e.kind == "bid" and e.data.get("preempt")]
    assert marked == [(102, START), (103, START + INC), (102, START + INC),
                      (103, START + 2 * INC)]
    assert state.paddle == 103


def test_preemption_window_after_the_clock(harness: Harness) -> None:
    """R10: after a timed lot's clock, the window holds the close while a holder could still
    equal the high; only such a bid is taken (no extension); then the closer sells."""
    past = harness.server_now() - 1
    state = timed(**LED, ends_at=past, holders="2:1,3:2", preempt_ms=60_000)
    lot = harness.place(state)
    for command, expected in [
        (("timed",), "not_due"), (("bid", 4, START + INC), "lot_closed"),
        (("bid", 3, START), "ok"), (("bid", 3, START), "lot_closed"),
        (("bid", 2, START), "ok"), (("timed",), "ok"),
    ]:
        state = harness.check(lot, state, command)
        assert harness.last_outcome == expected, command
    assert state.status is LotStatus.SOLD and state.paddle == 102 and state.extensions == 0
    done = timed(**LED, ends_at=past, holders="1:1,2:2", preempt_ms=60_000)
    lot = harness.place(done)  # the leader holds the first order: nobody can preempt
    assert harness.check(lot, done, ("timed",)).status is LotStatus.SOLD


def rounds(**kw: Any) -> RoomState:
    return live(**{"format": LotFormat.ROUNDS, "free_ms": 60_000, "round_ms": 30_000, **kw})


def test_rounds_free_phase_then_rounds(harness: Harness) -> None:
    """T1–T4: bids in the free phase change no clock; after it, the closer starts round 1, a
    bid starts round 2, and a round without a bid ends the lot, sold to the highest bid."""
    now = harness.server_now()
    state = rounds(status=LotStatus.OPEN, seq=1, opened_at=now, ends_at=now + 60_000)
    lot = harness.place(state)
    state = harness.check(lot, state, ("bid", 1, START))
    assert (state.round, state.ends_at) == (0, now + 60_000)  # free: no new round
    state = harness.check(lot, state, ("timed",))
    assert harness.last_outcome == "not_due"
    state = harness.check(lot, state, ("proxy", 2, START * 2))
    assert harness.last_outcome == "wrong_format"
    state = harness.check(lot, state, ("pause",))
    assert harness.last_outcome == "wrong_format"
    # the free phase is over (as if 60 s passed): the closer starts round 1
    ended = replace(state, ends_at=harness.server_now() - 1)
    lot = harness.place(ended)
    state = harness.check(lot, ended, ("timed",))
    assert state.round == 1 and state.ends_at == ended.ends_at + 30_000
    state = harness.check(lot, state, ("bid", 2, START + INC))
    assert state.round == 2 and state.status is LotStatus.OPEN
    # round 2 runs out with no bid: the lot ends, sold to the highest bid
    over = replace(state, ends_at=harness.server_now() - 1)
    lot = harness.place(over)
    assert harness.check(lot, over, ("bid", 1, START + 2 * INC)).round == 2
    assert harness.last_outcome == "lot_closed"
    state = harness.check(lot, over, ("timed",))
    assert state.status is LotStatus.SOLD and state.paddle == 102


def test_rounds_a_late_bid_starts_round_one_itself(harness: Harness) -> None:
    """T2: a bid after the free phase, before the closer ran, starts round 1 just before itself
    and round 2 after; a bid after round 1's end too is lot_closed."""
    now = harness.server_now()
    state = rounds(status=LotStatus.OPEN, seq=1, opened_at=now - 70_000, ends_at=now - 10_000)
    lot = harness.place(state)
    after = harness.check(lot, state, ("bid", 3, START))
    events = harness.run(harness.rooms.events_after(lot, 1)) or []
    assert [(e.kind, e.data.get("n")) for e in events] == [
        ("round_started", 1), ("bid", None), ("round_started", 2)]
    assert after.round == 2
    gone = rounds(status=LotStatus.OPEN, seq=1, opened_at=now - 200_000, ends_at=now - 40_000)
    lot = harness.place(gone)
    harness.check(lot, gone, ("bid", 3, START))
    assert harness.last_outcome == "lot_closed"


class FormatsMachine(RuleBasedStateMachine):
    """Random sequences on a lot of every format (english with proxies, sealed, Dutch): bids,
    proxies, acceptances, closes, console commands and eligibility changes; Lua and the model
    never disagree."""

    harness: Harness

    def __init__(self) -> None:
        super().__init__()
        self.lot = 0
        self.state = live()
        self.eligible = ELIGIBLE
        self.schedule: tuple[int, int, int] = (0, -1, 0)

    @initialize(
        format=st.sampled_from([LotFormat.ENGLISH, LotFormat.ENGLISH, LotFormat.SEALED,
                                LotFormat.DUTCH, LotFormat.ROUNDS, LotFormat.ROUNDS]),
        mode=st.sampled_from([LotMode.LIVE, LotMode.TIMED]),
        reserve=st.sampled_from([0, START + 3 * INC]),
        duration=st.sampled_from([200, 3_600_000]),
        bands=st.sampled_from(["", BANDS]),
        revisions=st.integers(0, 2),
        interval=st.sampled_from([5, 30, 60_000]),
        floor=st.sampled_from([START // 2, START - 1, START]),
        free=st.sampled_from([5, 40, 60_000]),
        round_ms=st.sampled_from([15, 60_000]),
        holders=st.sampled_from(["", "", "2:1", "2:1,3:2", "1:2,3:1,4:1"]),
        preempt=st.sampled_from([0, 30, 60_000]),
        opened=st.sampled_from([True, True, False]),
        cap=st.sampled_from([-1, -1, 0, 1, 2]),
        hard=st.sampled_from([0, 0, 150_000, 3_600_000]),
        planned=st.sampled_from([0, 0, 120_000]),
    )
    def setup(self, format: LotFormat, mode: LotMode, reserve: int, duration: int, bands: str,
              revisions: int, interval: int, floor: int, free: int, round_ms: int,
              holders: str, preempt: int, opened: bool, cap: int, hard: int,
              planned: int) -> None:
        self.state = RoomState(mode=mode, start=START, inc=INC, reserve=reserve,
                               window_ms=100_000, ext_ms=100_000, duration_ms=duration,
                               deposit=DEPOSIT, bands=bands, inc0=INC, format=format,
                               revisions=revisions, step=7 * INC, interval_ms=interval,
                               floor=floor, free_ms=free, round_ms=round_ms,
                               holders=holders, preempt_ms=preempt)
        self.lot = self.harness.place(self.state, self.eligible)
        # a timed lot's schedule (issue 15): the cap and hard end apply to the proxies'
        # automatic bids as to manual ones; Dutch and rounds lots take no schedule
        now = self.harness.server_now()
        self.schedule = (now + planned if planned else 0, cap, now + hard if hard else 0)
        if opened:  # else absentee proxies and refusals before the opening come first
            self.open()

    def _step(self, *command: Any) -> None:
        self.state = self.harness.check(self.lot, self.state, command, self.eligible)

    @rule(bidder=st.integers(1, 5), grant=st.booleans())
    def eligibility_pushed(self, bidder: int, grant: bool) -> None:
        self.harness.set_eligible(self.lot, bidder, grant)
        self.eligible = self.eligible | {bidder} if grant else self.eligible - {bidder}

    @rule(bidder=st.integers(1, 5), steps=st.integers(-1, 4), skew=st.sampled_from([0, 0, 1]))
    def bid(self, bidder: int, steps: int, skew: int) -> None:
        self._step("bid", bidder, self.state.next_minimum() + steps * self.state.inc + skew)

    @rule(bidder=st.integers(1, 5), steps=st.integers(-2, 8), skew=st.sampled_from([0, 0, 7]))
    def proxy(self, bidder: int, steps: int, skew: int) -> None:
        self._step("proxy", bidder, self.state.next_minimum() + steps * self.state.inc + skew)

    @rule()
    def open(self) -> None:
        self._step("open", *self.schedule)

    @rule(bidder=st.integers(1, 5))
    def accept(self, bidder: int) -> None:
        self._step("accept", bidder)

    @rule(ms=st.sampled_from([0, 10, 40]))
    def wait(self, ms: int) -> None:
        time.sleep(ms / 1000)  # the Dutch clock and short timed lots move on

    @rule(op=st.sampled_from(["hammer", "pass", "timed"]))
    def close(self, op: str) -> None:
        self._step(op)

    @rule(op=st.sampled_from(["pause", "resume", "undo"]))
    def console(self, op: str) -> None:
        self._step(op)

    @rule()
    def reopen(self) -> None:
        self._step("reopen", LONG)

    @invariant()
    def seq_counts_events(self) -> None:
        if self.lot:
            events = self.harness.run(self.harness.rooms.events_after(self.lot, 0)) or []
            assert len(events) == self.state.seq


def test_formats_machine(harness: Harness) -> None:
    """Hypothesis explores every format; both implementations stay identical."""
    FormatsMachine.harness = harness
    test = FormatsMachine.TestCase
    test.settings = settings(max_examples=150, stateful_step_count=25, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()
