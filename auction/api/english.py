"""English error messages, for requests that ask for them (``X-Auction-Lang: en``).

Every error's ``message`` is Chinese by default (docs/http-api.md). The pages send
``X-Auction-Lang: en`` after their English switch, and then get it in English, chosen in this
order:

1. the error's own English (:class:`auction.api.http_errors.BadRequest` ``en``: the request-body
   checks of ``Body`` give one for every field problem, with the field's name and its limits);
2. :data:`BY_MESSAGE`: a fixed Chinese message that says more than its code (the password rules);
3. :data:`BY_CODE`: the code's sentence, with the field named when the error has one.

A header of our own rather than ``Accept-Language``: a browser sends its system's languages with
every request, and our pages are Chinese first whatever the system is.
"""

from __future__ import annotations

from starlette.requests import Request

from auction.accounts.passwords import MIN_LENGTH

HEADER = "x-auction-lang"

#: codes of every error the API answers (docs/http-api.md, docs/protocol.md "Error codes")
BY_CODE: dict[str, str] = {
    "bad_request": "Invalid request",
    "too_large": "The request is too large",
    "unauthorized": "Log in first (or log in again: the login has expired)",
    "bad_credentials": "Wrong username or password",
    "wrong_password": "The current password is wrong",
    "forbidden": "Not allowed for this account",
    "csrf_failed": "The page's security token is missing or stale: reload the page",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "conflict": "Already taken, or in conflict with the current state",
    "wrong_state": "Not possible in the current state",
    "rate_limited": "Too many requests, try again shortly",
    "overloaded": "Server busy, try again shortly",
    "unavailable": "Service temporarily unavailable, try again",
    "internal_error": "Server error, try again",
    "invalid_uscc": "Not a valid unified social credit code",
    "invalid_resident_id": "Not a valid resident identity card number",
    "invalid_phone": "Not a valid phone number: an 11-digit mobile, or a landline with its "
                     "area code (0531-88886666)",
    "invalid_registration_no": "Not a valid registration number",
    "unknown_term": "Not a term of the list in force",
    "unknown_bidder": "No such bidder in this session",
    "unknown_bid": "No such bid",
    "unknown_lot": "No such lot",
    "unknown_paddle": "No such paddle in this session",
    "unsupported_type": "This file type is not accepted",
    "too_many_files": "Too many files",
    "too_many_rows": "Too many rows",
    "import_failed": "The spreadsheet has errors: see the rows below",
    "no_confirmation": "No confirmation for this lot yet",
    "no_lots": "The session has no lots",
    "not_published": "The session is not published yet",
    "not_yet": "Not yet time to open this lot",
    "listing_period": "Not possible during the listing period",
    "not_sold": "The lot was not sold",
    "not_relistable": "This lot cannot be relisted",
    "already_relisted": "This lot was already relisted",
    "relist_discount_too_large": "The new starting price is lower than the rules allow",
    "not_revocable": "This can no longer be revoked",
    "not_later": "The new time must be later than the current one",
    "not_overdue": "The payment is not overdue yet",
    "start_passed": "The start time has already passed",
    "bidding_started": "Bidding has already started",
    "session_not_settled": "The session is not settled yet",
    "registration_closed": "Applications for this session are closed",
    "notice_closed": "The notice period is over",
    "agreement_required": "Accept the agreement first",
    "defaulted_bidder": "This bidder defaulted on a purchase and may not bid",
    "defaulted": "The buyer defaulted",
    "deposit_required": "No confirmed deposit covers this lot",
    "deposit_insufficient": "The deposit does not cover this lot",
    "duplicate_reference": "This payment reference was already recorded",
    "already_resolved": "Already resolved",
    "superseded": "A newer version exists",
    "paid": "Already paid in full",
    "wrong_market": "Not a market of this session",
    "pdf_font_missing": "The PDF font is not installed on the server",
    "idempotency_conflict": "This request key was already used for something else",
    "lot_closed": "The lot has closed",
    "lot_paused": "Bidding is paused",
    "lot_not_open": "The lot has not opened yet",
    "no_bids": "No bids yet",
    "wrong_mode": "Not possible for this lot's mode",
    "wrong_format": "Not possible in this lot's format",
    "bad_amount": "Not a valid amount",
    "below_start": "Below the starting price",
    "too_low": "Below the lowest valid bid",
    "off_increment": "Not a step of the bidding increment",
    "already_leading": "You are already the highest bidder",
    "no_revisions_left": "No quote revisions left",
    "not_due": "Not due yet",
    "unknown_type": "Unknown message type",
}

#: fixed Chinese messages that say more than their code
BY_MESSAGE: dict[str, str] = {
    f"密码至少 {MIN_LENGTH} 位": f"The password needs at least {MIN_LENGTH} characters",
    "密码不能与用户名相同": "The password may not be the username",
    "密码过于常见 (在常用密码表中), 请换一个不易猜到的密码":
        "This password is too common (it is on the list of common passwords): choose one "
        "that is harder to guess",
    "新密码不能与原密码相同": "The new password must differ from the current one",
    "请先登录竞买人账号": "Log in with your bidder account first",
    "只有竞买人本人的登录令牌可以办理": "Only the bidder's own login can do this",
    "只有竞买人本人的登录令牌可以报名": "Only the bidder's own login can apply",
    "只有竞买人本人的登录令牌可以查看": "Only the bidder's own login can see this",
    "只有竞买人本人可以同意拍卖公告和竞买须知":
        "Only the bidder can accept the announcement and the bidding terms",
    "退款账户只能由竞买人本人填写": "Only the bidder can give the refund account",
    "须阅读并同意本场次的拍卖公告和竞买须知 (agreed: true)":
        "Read and accept the session's announcement and bidding terms first (agreed: true)",
    "委托代理人不能办理此项": "An agent cannot do this",
    "只能为本人的报名领取竞买凭证": "A bid credential is given only for your own application",
    "保证金确认到账后才能领取竞买凭证":
        "The bid credential is given once the deposit is confirmed as received",
    "只能查看本人的报名": "Only your own applications can be seen",
    "该竞买人曾对本场次重新挂拍的标的悔拍, 不能报名":
        "This bidder defaulted on a lot relisted in this session and cannot apply",
    "账号已停用": "This account is disabled",
    "不接受来自其他网站的登录": "Logins from other sites are not accepted",
}


def wants_english(header: str | None) -> bool:
    """Does the ``X-Auction-Lang`` value ask for English (``en``, ``en-GB``, …)?"""
    return header is not None and header.strip().lower().startswith("en")


def asked(request: Request) -> bool:
    """Does ``request`` ask for English (:func:`wants_english` of its header)?"""
    return wants_english(request.headers.get(HEADER))


def message(code: str, chinese: str, field: str | None, own: str | None = None) -> str:
    """The English ``message`` of an error (module docstring)."""
    if own:
        return own
    known = BY_MESSAGE.get(chinese)
    if known:
        return known
    text = BY_CODE.get(code, f"Not done ({code})")
    return f"{text}: {field}" if field else text
