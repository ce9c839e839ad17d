"""Live bidding rooms in Redis: key schema, Lua scripts, event streams, the closer of timed lots.

Exception tree: rooms raise :class:`auction.domain.errors.Rejection` (a rule said no) and let
``redis.exceptions.RedisError`` through (Redis is unreachable; the caller maps it to
``unavailable``).
"""
