"""The eligibility index (auction/rooms/eligibility.py ``EligibleIndex``) gives every lot the
same bidders as the rule itself (``eligible_bidders``, i.e. ``covers`` per deposit)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auction.domain.deposits import DepositState
from auction.rooms.eligibility import EligibleIndex, eligible_bidders

LOTS = (1, 2, 3, 4)
AMOUNTS = st.sampled_from((0, 1, 50_000, 99_999, 100_000, 100_001, 500_000))
DEPOSITS = st.lists(st.tuples(
    st.integers(1, 12),                               # bidder (several deposits each)
    st.one_of(st.none(), st.sampled_from((*LOTS, 9))),  # the band, a lot, another lot
    AMOUNTS,
    st.sampled_from([state.value for state in DepositState]),
), max_size=40)


@settings(max_examples=300, deadline=None)
@given(deposits=DEPOSITS, requirements=st.lists(AMOUNTS, min_size=len(LOTS),
                                                max_size=len(LOTS)))
def test_the_index_agrees_with_the_rule_for_every_lot(
    deposits: list[tuple[int, int | None, int, str]], requirements: list[int]
) -> None:
    index = EligibleIndex(deposits)
    for lot, requirement in zip(LOTS, requirements, strict=True):
        for _ in range(2):  # asked twice: the shared list is not changed by the first answer
            bidders, _shared = index.sorted_for(lot, requirement)
            assert bidders == sorted(eligible_bidders(lot, requirement, deposits))


def test_lots_with_one_requirement_and_no_deposit_of_their_own_share_one_list() -> None:
    deposits = [(1, None, 100_000, "held"), (2, None, 50_000, "confirmed"), (3, 7, 100_000, "held"),
                (4, None, 100_000, "released")]
    index = EligibleIndex(deposits)
    first, shared = index.sorted_for(5, 100_000)
    again, shared_again = index.sorted_for(6, 100_000)
    assert first == [1] and shared and shared_again and again is first
    own, shared_own = index.sorted_for(7, 100_000)
    assert own == [1, 3] and not shared_own
    assert index.sorted_for(5, 50_000) == ([1, 2], True)
