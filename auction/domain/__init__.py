"""Pure auction rules: no I/O, no clocks, no network (house style rule 1).

Every function here takes a command and ``now`` (server time, integer milliseconds) and returns
events or raises a :class:`~auction.domain.errors.Rejection`. The Lua scripts in
``auction/rooms/lua`` implement the same rules atomically in Redis; ``tests/rooms`` holds them
together with one case table and a Hypothesis state machine.
"""
