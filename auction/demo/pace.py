"""Demo timings: watchable by default, seconds in ``fast`` mode (whole demo well under a minute)."""

from __future__ import annotations

from dataclasses import dataclass

from auction.demo.seed import TimedRules


@dataclass(frozen=True, slots=True)
class Pace:
    """All delays in seconds."""

    think: tuple[float, float]  # a bidder's pause before a live bid
    timed_think: tuple[float, float]  # … before a bid on a timed lot
    quiet_s: float  # the auctioneer hammers after this long without a new bid
    no_bid_s: float  # … passes a lot nobody bid on after this long
    between_lots_s: float
    timed: TimedRules
    settle_timeout_s: float  # once=True: how long to wait for settlement and registration
    idle_between_rounds_s: float  # once=False: pause before the next demo round

    @classmethod
    def normal(cls) -> Pace:
        return cls(
            think=(0.8, 3.0),
            timed_think=(4.0, 20.0),
            quiet_s=8.0,
            no_bid_s=20.0,
            between_lots_s=4.0,
            timed=TimedRules(duration_s=180, extension_window_s=60, extension_s=60),
            settle_timeout_s=300.0,
            idle_between_rounds_s=60.0,
        )

    @classmethod
    def fast(cls) -> Pace:
        return cls(
            think=(0.05, 0.3),
            timed_think=(0.3, 1.5),
            quiet_s=1.2,
            no_bid_s=2.5,
            between_lots_s=0.3,
            timed=TimedRules(duration_s=20, extension_window_s=5, extension_s=5),
            settle_timeout_s=60.0,
            idle_between_rounds_s=5.0,
        )
