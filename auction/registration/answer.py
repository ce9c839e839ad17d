"""The registration office's answer, as it comes in a delivery's response body or a callback.

Shape (docs/http-api.md "Registration"): ``{"registration_no": "<16 digits>", "status":
"registered" | "rejected", "reason": "…"}``. :func:`read_answer` takes a response body:

- ``status`` ``registered`` with a ``registration_no`` of exactly 16 ASCII digits → registered;
- ``status`` ``rejected`` → rejected, with ``reason`` (a string; ``""`` when absent);
- anything else — no body, not JSON, no ``status``, another status → no answer (the packet is
  ``delivered``, 待登记, and the answer may come by callback);
- ``registered`` with a malformed number → :class:`BadAnswer`: the packet was taken, the
  answer is not stored, and why is kept in ``last_error``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from auction.domain.registration_form import is_registration_no

MAX_REASON_CHARS = 500


@dataclass(frozen=True, slots=True)
class Answer:
    status: str  # registered | rejected
    registration_no: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class BadAnswer:
    why: str


def read_answer(body: bytes) -> Answer | BadAnswer | None:
    """The answer in a 2xx response body (module docstring)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    status = data.get("status")
    reason = data.get("reason")
    reason_text = reason[:MAX_REASON_CHARS] if isinstance(reason, str) else ""
    if status == "rejected":
        return Answer("rejected", None, reason_text)
    if status != "registered":
        return None
    number = data.get("registration_no")
    if not is_registration_no(number):
        return BadAnswer(f"answer ignored: registration_no {number!r} is not 16 digits")
    assert isinstance(number, str)
    return Answer("registered", number, reason_text)
