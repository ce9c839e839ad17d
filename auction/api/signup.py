"""Bidder sign-up over HTTP: ``POST /api/v1/bidders`` (docs/http-api.md "Writes", docs/roles.md
"Sign-up"). Decode → validate (auction/domain/identity.py) → :mod:`auction.store.signup` →
encode.

Two kinds of bidder (``kind``):

- ``enterprise`` (the default, as before): ``name``, ``uscc`` (GB 32100-2015 check character),
  ``contact?``, ``legal_representative?``; with an account, the person holding it may be named
  (``person_name?``, ``resident_id?``).
- ``person`` (a natural person, 自然人): ``name``, ``resident_id`` (GB 11643-1999 check digit
  and a real birth date) and ``phone``; a credit code, contact or legal representative is an
  unknown field for a person (400 naming it). The account, when asked for, is the person's own.

Either may ask for its account (``username`` + ``password``). A malformed request is a 400
naming the field. Anyone but the platform admin gets :data:`SIGNUP_ACCEPTED` (202) whatever
happened — made, or a credit code / resident id / username already taken (nothing is made then)
— and finds out by logging in; sign-ups are limited per address. The platform admin is told:
201 with the bidder (a person's resident id masked: first 6 and last 4), or 409 naming the taken
field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from auction.accounts import limits, passwords
from auction.api import guard
from auction.api.headers import client_address
from auction.api.http_errors import BadRequest, Body, read_body
from auction.api.tokens import account_keys
from auction.domain.identity import (
    IdentityError,
    validate_phone,
    validate_resident_id,
    validate_uscc,
)
from auction.store import signup
from auction.store.records import CST
from auction.store.signup import Enterprise, NewAccount, Outcome, Person

#: the one answer to a sign-up by anyone but the platform admin (docs/roles.md "Sign-up")
SIGNUP_ACCEPTED = {
    "status": "accepted",
    "message": "已受理。若同时设置了用户名和密码, 请用它们登录: 能登录即登记成功; 不能登录说明"
               "该用户名、统一社会信用代码或公民身份号码已被使用 (已登记的企业或个人请联系技术市场"
               "核实)。",
}

KINDS = ("enterprise", "person")


def _checked(check: str, raw: str, field: str) -> str:
    """``raw`` through the identity check ``check``; 400 naming ``field`` when it fails."""
    try:
        if check == "uscc":
            return validate_uscc(raw)
        if check == "phone":
            return validate_phone(raw)
        return validate_resident_id(raw, today=datetime.now(CST).date())
    except IdentityError as exc:
        raise BadRequest(exc.message, field, code=exc.code) from exc


def _bidder(body: Body, kind: str) -> Callable[[], tuple[Enterprise | Person, str, str]]:
    """Read the bidder's fields (their form: 400 naming the field); returns what checks the
    identity codes, called once the whole body has been read — so a malformed field is named
    before a code's check character is looked at — and gives the bidder and the account
    holder's (name, resident id)."""
    name = body.text("name")
    if kind == "person":
        raw_id = body.text("resident_id", max_len=40)
        raw_phone = body.text("phone", max_len=40)

        def person() -> tuple[Enterprise | Person, str, str]:
            resident_id = _checked("resident_id", raw_id, "resident_id")
            phone = _checked("phone", raw_phone, "phone")
            return Person(name=name, resident_id=resident_id, phone=phone), name, resident_id

        return person
    raw_uscc = body.text("uscc", max_len=40)
    contact = body.text("contact", default="", allow_empty=True)
    representative = body.text("legal_representative", default="", allow_empty=True, max_len=64)
    person_name = body.text("person_name", default="", allow_empty=True, max_len=64)
    raw_resident_id = body.text("resident_id", default="", allow_empty=True, max_len=40)

    def enterprise() -> tuple[Enterprise | Person, str, str]:
        uscc = _checked("uscc", raw_uscc, "uscc")
        resident_id = (_checked("resident_id", raw_resident_id, "resident_id")
                       if raw_resident_id else "")
        made = Enterprise(name=name, uscc=uscc, contact=contact,
                          legal_representative=representative)
        return made, person_name, resident_id

    return enterprise


async def create_bidder(request: Request) -> JSONResponse:
    """Real-name sign-up of an enterprise or a natural person, and optionally its account (see
    the module docstring)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request, required=False)
    desk = guard.is_platform_admin(who)
    if not desk:
        await limits.check(services.redis, account_keys(services),
                           (limits.SIGNUP_PER_ADDRESS, client_address(request)))
    body = await read_body(request)
    kind = body.choice("kind", KINDS, default="enterprise")
    checked = _bidder(body, kind)
    username = body.optional_text("username", max_len=64)
    password = body.optional_text("password", max_len=passwords.MAX_LENGTH)
    body.done()
    bidder, person_name, resident_id = checked()
    if (username is None) != (password is None):
        raise BadRequest("username 与 password 须同时提供", "password" if password is None
                         else "username")
    account = None
    if username is not None and password is not None:
        weak = passwords.weakness(password, username=username)
        if weak is not None:
            raise BadRequest(weak, "password")
        # hashed whatever the outcome: a taken key must not answer faster
        account = NewAccount(
            username=username, person_name=person_name, resident_id=resident_id,
            password_hash=await passwords.hash_password(
                password, services.settings.password_profile),
        )
    made = await signup.sign_up(services.store, account=account, bidder=bidder)
    if not desk:
        return JSONResponse(SIGNUP_ACCEPTED, status_code=202)
    if made.outcome is Outcome.USCC_TAKEN:
        raise BadRequest("该统一社会信用代码已登记", "uscc", code="conflict", status=409)
    if made.outcome is Outcome.RESIDENT_ID_TAKEN:
        raise BadRequest("该公民身份号码已登记", "resident_id", code="conflict", status=409)
    if made.outcome is Outcome.USERNAME_TAKEN:
        raise BadRequest("用户名已被使用", "username", code="conflict", status=409)
    assert made.shown is not None
    answer = dict(made.shown)
    if made.account_id is not None:
        answer["account_id"] = made.account_id
    return JSONResponse(answer, status_code=201)
