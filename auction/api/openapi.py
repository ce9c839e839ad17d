"""``GET /openapi.json``: the OpenAPI 3.1 description of the HTTP API, built by hand.

Built from the operation table below rather than from docstrings (starlette's SchemaGenerator
needs PyYAML); docs/http-api.md is the prose, this is the machine-readable mirror. Adding an
endpoint means adding a row to :data:`OPERATIONS` (a test checks every HTTP route of the app is
listed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.wire.codec import COMMAND_OPS

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], **props: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": props}


def _list_of(key: str, item: Schema) -> Schema:
    return _obj([key], **{key: {"type": "array", "items": item}})


INT: Schema = {"type": "integer"}
FEN: Schema = {"type": "integer", "minimum": 0, "description": "money in fen (分)"}
STR: Schema = {"type": "string"}
TIME: Schema = {"type": "string", "format": "date-time", "description": "RFC 3339, +08:00"}
NULL_INT: Schema = {"type": ["integer", "null"]}
DATE: Schema = {"type": "string", "format": "date", "description": "a day in China, YYYY-MM-DD"}


def _enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


LOT_STATUS = _enum("scheduled", "open", "sold", "passed", "withdrawn")
#: a listing (挂牌) as the public sees it (auction/api/listing_sale.py listing_json)
LISTING = _obj(["starts_at", "ends_at", "price_fen", "buyers", "state"],
               starts_at=TIME, ends_at=TIME, working_days=NULL_INT, price_fen=FEN,
               buyers={**INT, "description": "意向受让方 (qualified buyers): how many, never who"},
               state=_enum("listing", "expired", "agreement", "auction"))
REG_STATUS = _enum("pending", "delivered", "filed", "registered", "rejected", "dead")
REG_SHOWN = _enum("pending", "registered", "rejected", "dead")
#: a session's increment table (auction/domain/increments.py)
INCREMENTS: Schema = {
    "type": "array", "maxItems": 10,
    "description": "加价幅度表: price bands, ascending from_fen, the first 0; [] is none",
    "items": _obj(["from_fen", "inc_fen"], from_fen=FEN,
                  inc_fen={**FEN, "minimum": 1}),
}


SCHEMAS: dict[str, Schema] = {
    "Error": _obj(["error"], error=_obj(
        ["code", "message"], code=STR, field=STR,
        message={**STR, "description": "Chinese; English for a request with the header "
                 "X-Auction-Lang: en"})),
    "Market": _obj(
        ["id", "code", "slug", "name", "level", "parent_id"], id=INT,
        code={"type": "string", "pattern": "^[0-9]{6}$"}, slug=STR, name=STR,
        level=_enum("province", "city", "county"), parent_id=NULL_INT,
    ),
    "Session": _obj(
        ["id", "market_id", "market_code", "name", "season", "mode", "starts_at", "status",
         "extension_window_s", "extension_s", "lot_count", "increments"],
        id=INT, market_id=INT, market_code=STR, name=STR,
        season=_enum("spring", "autumn", "special"), mode=_enum("live", "timed"),
        starts_at=TIME, status=_enum("scheduled", "running", "finished"),
        extension_window_s=INT, extension_s=INT, lot_count=INT, increments=INCREMENTS,
        # issue 11: what the session tells its bidders
        announcement={**STR, "description": "拍卖公告"}, terms={**STR, "description": "竞买须知"},
        contact_phone=STR, registration_deadline={"type": ["string", "null"]},
        payee_name={**STR, "description": "保证金收款单位"}, payee_bank=STR, payee_account=STR,
        # issue 12: a draft is seen by its market's staff only until published
        published={"type": "boolean", "description": "false: a draft (staff of its market only)"},
        published_at={"type": ["string", "null"]},
        # issue 15: a timed session's schedule (docs/formats.md "Scheduling")
        ends_at={"type": ["string", "null"], "description": "场次结束时间: 第一件标的的截止"},
        close_gap_s={**INT, "description": "第 n 件标的截止 = ends_at + (n − 1) × close_gap_s"},
        max_extensions={**NULL_INT, "description": "每件标的最多延时次数; null: 不限"},
        hard_end_at={"type": ["string", "null"], "description": "最晚结束时间 (延时也不超过)"},
    ),
    "Lot": _obj(
        ["id", "session_id", "ordinal", "title", "description", "result_type", "ip_type",
         "technology_field", "transaction_mode", "contract_type", "holder_name",
         "start_price_fen", "increment_fen", "non_tech_fen", "duration_s", "status"],
        id=INT, session_id=INT, ordinal=INT, title=STR, description=STR, result_type=STR,
        ip_type=STR, technology_field=STR, transaction_mode=_enum("转让", "许可", "作价投资"),
        contract_type=_enum("技术转让", "技术许可", "技术开发", "技术咨询", "技术服务"),
        holder_name=STR, start_price_fen=FEN, increment_fen=FEN, non_tech_fen=FEN,
        duration_s=INT, status=LOT_STATUS,
        live={"type": ["object", "null"], "description": "room snapshot (GET /lots/{id} only)"},
        reserve_fen={**FEN, "description": "admin answers only"},
        deposit_fen={**FEN, "description": "deposit needed to bid on the lot"},
        holder_uscc={**STR, "description": "admin answers only"},
        has_reserve={"type": "boolean", "description": "保留价 有/无 (the amount is never shown)"},
        appraisal_fen={**NULL_INT, "description": "评估价, when given"},
        starts_at={"type": ["string", "null"], "description": "限时标的自己的开始时间"},
        relisted_from={**NULL_INT, "description": "重新挂拍: 原标的"},
        relisted_to={**NULL_INT, "description": "GET /lots/{id} only: 重新挂拍后的新标的"},
        relistable={"type": "boolean", "description": "GET /lots/{id} only: 可重新挂拍"},
        closes_at={"type": ["string", "null"],
                   "description": "GET /lots/{id} only: 限时标的按场次日程的计划截止时间"},
        relist_history={"type": "array", "items": {"type": "object"},
                        "description": "GET /lots/{id} only: 挂拍经过, 最早的在前"},
        format=_enum("english", "sealed", "dutch", "rounds", "listing"),
        free_s={**INT, "description": "rounds lots only: the free phase from the opening"},
        preempt_window_s={**INT, "description": "preemptive rights' window after the clock"},
        round_s={**INT, "description": "rounds lots only: a round's length"},
        revisions={**INT, "description": "sealed lots only: revisions a quote allows"},
        step_fen={**FEN, "description": "dutch lots only: the price's fall per interval"},
        interval_s={**INT, "description": "dutch lots only"},
        floor_fen={**FEN, "description": "dutch lots only: the lowest price"},
        listing_days={**NULL_INT, "description": "listing lots only: 挂牌期 (working days)"},
        listing_ends_at={"type": ["string", "null"],
                         "description": "listing lots only: 挂牌截止时间"},
        listing={**LISTING, "description": "GET /lots/{id}, listing lots: 挂牌期, 意向受让方人数"},
        extension_window_s={**INT, "description": "GET /lots/{id} only: the session's rule"},
        extension_s={**INT, "description": "GET /lots/{id} only"},
        registered={**INT, "description": "GET /lots/{id} only: 报名人数"},
        attachments={"type": "array", "items": _ref("File"),
                     "description": "GET /lots/{id} only"},
        result={"anyOf": [_ref("LotResult"), {"type": "null"}],
                "description": "how the lot ended; null until settled"},
        warnings={"type": "array", "description": "lot creation's answer only",
                  "items": _obj(["code", "message"], code=_enum("increment_guideline"),
                                message=STR)},
    ),
    "Bidder": _obj(
        ["id", "name", "uscc", "contact"], id=INT, name=STR,
        uscc={"type": ["string", "null"], "description": "null for a natural person"},
        contact=STR, created_at=TIME, kind=_enum("enterprise", "person"),
        legal_representative={**STR, "description": "an enterprise's 法定代表人"},
        resident_id={**STR, "description": "a person's, masked: first 6 and last 4"},
        phone={**STR, "description": "a person's"},
    ),
    "Registration": _obj(
        ["id", "session_id", "bidder_id", "status", "paddle"], id=INT, session_id=INT,
        bidder_id=INT,
        status=_enum("invited", "applied", "approved", "rejected", "deposit_paid", "withdrawn",
                     "forfeited"),
        paddle=NULL_INT, deposit_fen=FEN, reason=STR,
    ),
    "RegistrationStep": _obj(
        ["id", "step", "to_status", "actor", "actor_role", "at"], id=INT,
        step=_enum("invited", "applied", "accepted", "approved", "rejected",
                   "deposit_confirmed", "withdrawn", "forfeited", "credential_issued",
                   "agent_recorded", "migrated"),
        from_status={"type": ["string", "null"]}, to_status=STR, actor=STR, actor_role=STR,
        actor_account_id=NULL_INT, detail={"type": "object"}, at=TIME,
    ),
    "Bid": _obj(["seq", "paddle", "amount_fen", "at", "source", "retracted"], seq=INT,
                paddle=NULL_INT, amount_fen=FEN, at=TIME,
                source=_enum("online", "floor", "phone"),
                retracted={"type": "boolean", "description": "undone by the auctioneer"},
                mark={"type": ["string", "null"],
                      "enum": ["preempt", "auto", "sealed", "accepted", None],
                      "description": "优先权 / a proxy's / a revealed quote / a Dutch acceptance"}),
    "Progress": _obj(
        ["session_id", "registered", "lots", "hammer_total_fen", "running_order"],
        session_id=INT, registered={**INT, "description": "报名人数 (approved or further)"},
        lots=_obj(["total", "scheduled", "open", "sold", "passed", "withdrawn"], total=INT,
                  scheduled=INT, open=INT, sold=INT, passed=INT, withdrawn=INT),
        hammer_total_fen=FEN,
        running_order={"type": "array", "items": _obj(
            ["lot_id", "ordinal", "title", "status", "hammer_fen"], lot_id=INT, ordinal=INT,
            title=STR, status=LOT_STATUS, hammer_fen=NULL_INT)},
    ),
    "Result": _obj(
        ["lot_id", "session_id", "title", "paddle", "amount_fen", "hammer_at", "bid_count"],
        lot_id=INT, session_id=INT, title=STR, paddle=NULL_INT, amount_fen=FEN,
        hammer_at=TIME, bid_count=INT,
        registration={"anyOf": [_ref("RegistrationAnswer"), {"type": "null"}],
                      "description": "its contract registration; null before it is queued"},
    ),
    # -- the public catalogue and 成交公示 (auction/api/listing.py) --
    "ListingLot": _obj(
        ["id", "session_id", "ordinal", "title", "status", "market", "session", "price_label",
         "price_fen", "current_fen", "final_fen", "ends_at"],
        id=INT, session_id=INT, ordinal=INT, title=STR, result_type=STR, ip_type=STR,
        technology_field=STR, transaction_mode=STR, contract_type=STR, holder_name=STR,
        start_price_fen=FEN, increment_fen=FEN, deposit_fen=FEN, duration_s=INT,
        status=LOT_STATUS,
        market=_obj(["code", "name"], code=STR, name=STR),
        session=_obj(["id", "name", "mode"], id=INT, name=STR, mode=_enum("live", "timed"),
                     season=STR, starts_at=TIME),
        price_label=_enum("起拍价", "当前价", "成交价", "流拍", "撤拍"),
        price_fen={**NULL_INT, "description": "the amount to show under price_label"},
        current_fen={**NULL_INT, "description": "起拍价 or the room's high; null once closed"},
        final_fen={**NULL_INT, "description": "the hammer price of a sold lot"},
        final_paddle=NULL_INT, bids=NULL_INT,
        ends_at={"type": ["string", "null"], "description": "timed lots: close time"},
        pass_reason={"type": ["string", "null"]}, pass_reason_text={"type": ["string", "null"]},
        format=_enum("listing"),
        listing={**LISTING, "description": "listing lots only"},
    ),
    "PublicityLot": _obj(
        ["lot_id", "session_id", "title", "market"], lot_id=INT, session_id=INT,
        session_name=STR, ordinal=INT, title=STR,
        market=_obj(["code", "name"], code=STR, name=STR),
        buyer=_obj(["kind", "name"], kind=_enum("enterprise", "person"),
                   name={**STR, "description": "a person's name is masked (张*)"}),
        paddle=NULL_INT, amount_fen=NULL_INT, hammer_at=TIME, closed_at=TIME, bid_count=INT,
        publicity=_obj(["starts_on", "ends_on", "open"], opened_at=TIME, starts_on=DATE,
                       ends_on=DATE, working_days=INT, open={"type": "boolean"},
                       state=_enum("current", "closed")),
        defaulted={"type": "boolean", "description": "悔拍 declared"},
        deal=_enum("auction", "agreement"), deal_text=_enum("拍卖", "协议成交"),
        notice_title=_enum("成交公示", "协议成交公示"),
        objection=_obj(["market", "text"], market=STR, phone={"type": ["string", "null"]},
                       contact={"type": ["string", "null"]}, text=STR),
        reason=STR, reason_text=STR,
    ),
    # -- issue 13: payment of the balance, 悔拍, 成交公示 objections --
    "LotPayment": _obj(
        ["lot_id", "price_fen", "deposit_applied_fen", "balance_fen", "paid_fen", "open_fen",
         "due_on", "status"], lot_id=INT, session_id=INT, ordinal=INT, title=STR,
        paddle=NULL_INT, buyer=_obj(["name"], id=INT, kind=STR, name=STR), hammer_at=TIME,
        price_fen=FEN, deposit_applied_fen=FEN, balance_fen=FEN, paid_fen=FEN, open_fen=FEN,
        due_on=DATE, status=_enum("待付款", "已付清", "逾期", "悔拍"),
        status_code=_enum("pending", "paid", "overdue", "defaulted"),
        default={"type": ["object", "null"]},
        payments={"type": "array", "items": _obj(
            ["amount_fen", "paid_on", "bank_reference"], id=INT, lot_id=INT, amount_fen=FEN,
            paid_on=DATE, bank_reference=STR, recorded_by=STR, recorded_at=TIME)},
    ),
    "Objection": _obj(
        ["id", "lot_id", "name", "contact", "text", "filed_at"], id=INT, lot_id=INT,
        title=STR, name=STR, contact=STR, text=STR, filed_at=TIME,
        resolution={"type": ["string", "null"]}, resolved_by={"type": ["string", "null"]},
        resolved_at={"type": ["string", "null"]},
    ),
    "MarketNotice": _obj(
        ["code", "notice_working_days", "objection_contact"], code=STR, name=STR,
        notice_working_days=INT, objection_contact=STR,
    ),
    "Account": _obj(
        ["id", "username", "role"], id=INT, username=STR,
        role=_enum("platform_admin", "market_admin", "auctioneer", "finance", "bidder"),
        market_id=NULL_INT, market_code={"type": ["string", "null"]}, bidder_id=NULL_INT,
        person_name=STR, resident_id={**STR, "description": "masked"},
        disabled={"type": "boolean"},
        registration_id={**NULL_INT, "description": "an agent's account: its registration"},
    ),
    "Deposit": _obj(
        ["id", "session_id", "registration_id", "amount_fen", "state"], id=INT, market_id=INT,
        session_id=INT, registration_id=INT, lot_id=NULL_INT, amount_fen=FEN,
        state=_enum("required", "confirmed", "held", "released", "applied", "forfeited"),
        bidder_id=INT, paddle=NULL_INT, bidder_name=STR,
    ),
    "MarketLedger": _obj(
        ["market_code", "received_fen", "balances", "conserved"], market_id=INT,
        market_code=STR, received_fen=FEN, balances={"type": "object"},
        entries={"type": "object"}, conserved={"type": "boolean"},
    ),
    "RegistrationStatus": _obj(
        ["lot_id", "status", "attempts", "last_error", "idempotency_key", "delivered_at"],
        lot_id=INT, status=REG_STATUS, attempts=INT,
        last_error=STR, idempotency_key=STR, delivered_at={"type": ["string", "null"]},
        version=INT, shown=REG_SHOWN, status_text=STR,
        registration_no={"type": ["string", "null"], "description": "16 digits (已登记)"},
        reason={**STR, "description": "未予登记: the office's reason"},
        answered_at={"type": ["string", "null"]},
        market_code={**STR, "description": "the market whose endpoint the packet is for"},
    ),
    # -- issue 13 item 3: registration with its answer --
    "RegistrationAnswer": _obj(
        ["status", "shown", "status_text", "registration_no", "reason", "version"],
        status=REG_STATUS, shown=REG_SHOWN,
        status_text={**STR, "description": "待登记 / 已登记 / 未予登记 / 移交失败"},
        registration_no={"type": ["string", "null"]}, reason=STR, version=INT,
        answered_at={"type": ["string", "null"]},
    ),
    "RegistrationEndpoint": _obj(
        ["market_code", "url", "source", "inherited_from", "has_secret"], market_code=STR,
        url={"type": ["string", "null"]}, source=_enum("own", "inherited", "default", "none"),
        inherited_from={"type": ["string", "null"], "description": "the market code"},
        has_secret={"type": "boolean", "description": "the secret itself is never shown"},
        deleted={"type": "boolean", "description": "DELETE only"},
    ),
    # -- issue 11: files, results, a bidder's own views --
    "File": _obj(
        ["id", "filename", "content_type", "size_bytes", "url"], id=INT, label=STR,
        filename=STR, content_type=_enum("image/png", "image/jpeg", "image/webp",
                                         "application/pdf"),
        size_bytes=INT, sha256=STR, uploaded_at=TIME, url=STR,
    ),
    "LotResult": _obj(
        ["outcome", "amount_fen", "paddle", "closed_at"],
        outcome=_enum("sold", "passed", "withdrawn"), amount_fen=NULL_INT, paddle=NULL_INT,
        closed_at=TIME, bid_count=INT, reason=STR,
        reason_text={**STR, "description": "流拍/撤拍 reason in words"},
        registration={"anyOf": [_ref("RegistrationAnswer"), {"type": "null"}],
                      "description": "sold lots only: its contract registration"},
    ),
    "MyAuction": _obj(
        ["bidder_id", "registrations", "deposits", "bidding", "won", "rooms"], bidder_id=INT,
        registrations={"type": "array", "items": _obj(
            ["id", "session_id", "status", "status_text", "paddle"], id=INT, session_id=INT,
            session_name=STR, mode=_enum("live", "timed"), starts_at=TIME, status=STR,
            status_text=STR, paddle=NULL_INT, deposit_fen=FEN, reason=STR, created_at=TIME)},
        deposits={"type": "array", "items": _obj(
            ["id", "session_id", "amount_fen", "state", "state_text"], id=INT, session_id=INT,
            registration_id=INT, lot_id=NULL_INT, amount_fen=FEN,
            state=_enum("required", "confirmed", "held", "released", "applied", "forfeited"),
            state_text=STR, updated_at=TIME)},
        bidding={"type": "array", "items": _obj(
            ["lot_id", "title", "status", "my_high_fen", "leading", "standing"], lot_id=INT,
            session_id=INT, ordinal=INT, title=STR, status=LOT_STATUS, my_high_fen=NULL_INT,
            my_bids=INT, last_bid_at={"type": ["string", "null"]}, current_fen=NULL_INT,
            leading={"type": "boolean", "description": "领先 (open) / won (closed)"},
            standing=_enum("领先", "出局", "成交", "未得", "未知"))},
        won={"type": "array", "items": _obj(
            ["lot_id", "title", "amount_fen", "hammer_at", "next_step"], lot_id=INT,
            session_id=INT, title=STR, paddle=NULL_INT, amount_fen=FEN, hammer_at=TIME,
            next_step=STR, next_step_en=STR,
            next_step_code=_enum("pay", "overdue", "defaulted", "registration_pending",
                                 "registration_rejected", "done"),
            registration={"anyOf": [_ref("RegistrationAnswer"), {"type": "null"}]})},
        rooms=_enum("ok", "unavailable"),
    ),
    "Confirmation": _obj(
        ["lot_id", "number", "market", "session", "lot", "seller", "buyer", "amount_fen",
         "amount_capitals", "hammer_at", "bid_log_sha256", "verified"],
        lot_id=INT, number=STR, market=_obj(["code", "name"], code=STR, name=STR),
        session=_obj(["id", "name"], id=INT, name=STR),
        lot=_obj(["ordinal", "title"], ordinal=INT, title=STR, result_type=STR, ip_type=STR,
                 transaction_mode=STR),
        seller=_obj(["name", "uscc"], name=STR, uscc=STR),
        buyer=_obj(["kind", "name"], kind=_enum("enterprise", "person"), name={
            **STR, "description": "a natural person masked as 成交公示 masks one"},
            uscc={"type": ["string", "null"]}, resident_id={
                "type": ["string", "null"], "description": "masked: 110105********002X"}),
        paddle=NULL_INT, amount_fen=FEN, amount_capitals={**STR, "description": "大写金额"},
        hammer_at=TIME, deposit_applied_fen=FEN, balance_fen=FEN,
        balance_due_on={**STR, "format": "date"}, bid_count=INT,
        bid_log_sha256=STR, verified={"type": "boolean"}, verify_url=STR,
    ),
    "SessionReport": _obj(
        ["session", "lots", "bidders", "deposits", "totals"],
        session=_obj(["id", "name"], id=INT, name=STR, market_code=STR,
                     mode=_enum("live", "timed"), starts_at=TIME, status=STR),
        lots={"type": "array", "items": _obj(
            ["lot_id", "ordinal", "title", "status", "bid_count", "result"], lot_id=INT,
            ordinal=INT, title=STR, status=LOT_STATUS, start_price_fen=FEN, deposit_fen=FEN,
            bid_count=INT, result={"type": ["object", "null"], "description": (
                "{outcome, outcome_text, amount_fen, paddle, closed_at, reason, reason_text, "
                "buyer: {bidder_id, name, kind} | null}; null until settled")})},
        bidders={"type": "array", "items": _obj(
            ["registration_id", "bidder_id", "name", "status", "paddle"], registration_id=INT,
            bidder_id=INT, name=STR, kind=_enum("enterprise", "person"), status=STR,
            paddle=NULL_INT, registered={"type": "boolean"},
            won_lots={"type": "array", "items": INT})},
        deposits={"type": "array", "items": _obj(
            ["id", "amount_fen", "state"], id=INT, registration_id=INT, paddle=NULL_INT,
            bidder_name=STR, lot_id=NULL_INT, amount_fen=FEN, state=STR, state_text=STR)},
        totals=_obj(
            ["lots", "hammer_total_fen", "bid_count", "registered"],
            lots=_obj([], total=INT, sold=INT, passed=INT, withdrawn=INT, unsettled=INT),
            hammer_total_fen=FEN, start_total_of_sold_fen=FEN, bid_count=INT, registered=INT,
            bidders_with_paddle=INT, deposits_fen={"type": "object"},
            deposits_applied_fen=FEN, deposits_released_fen=FEN),
    ),
    "RegistrationView": {"allOf": [_ref("Registration"), _obj(
        ["status_text", "documents", "deposit", "deposits", "session"],
        status_text=STR, created_at=TIME, agreed_at={"type": ["string", "null"]},
        agreed_to_current={"type": "boolean",
                           "description": "the texts agreed to are the session's current ones"},
        agent={"type": ["object", "null"], "description": "{name, resident_id (masked), "
               "recorded_at}"},
        documents={"type": "array", "items": _ref("File")},
        session=_obj(["id", "name", "starts_at"], id=INT, name=STR, starts_at=TIME,
                     registration_deadline={"type": ["string", "null"]}, contact_phone=STR),
        deposit=_obj(
            ["amount_fen", "state", "reference", "deadline"], amount_fen=FEN,
            state={"type": ["string", "null"], "description": "null before approval"},
            payee_name=STR, payee_bank=STR, payee_account=STR,
            reference={**STR, "description": "转账附言: BZJ-<session>-<registration>"},
            deadline=TIME),
        deposits={"type": "array", "items": _obj(
            ["id", "amount_fen", "state"], id=INT, lot_id=NULL_INT, amount_fen=FEN,
            state=STR)},
    )]},
    # -- issue 12 item 7: the audit trail --
    "AuditEntry": _obj(
        ["id", "at", "actor", "method", "route", "ids", "body", "status", "created"], id=INT,
        at=TIME, actor=_obj(
            ["role"], role=STR, account_id=NULL_INT, subject=STR, market_id=NULL_INT,
            session_id=NULL_INT, address=STR),
        method={**STR, "description": "POST / PUT / PATCH / DELETE, or WS (a socket cmd)"},
        route={**STR, "description": "'POST /api/v1/sessions/{session_id}/lots', 'WS cmd'"},
        ids={"type": "object", "description": "the path's ids"}, query={"type": "object"},
        market_id=NULL_INT, market_code={"type": ["string", "null"]},
        body={"description": "the JSON body, secrets redacted (password, token: ***;"
                             " resident_id: first 6 + last 4)"},
        status=INT, created={"type": "object", "description": "id, seq, paddle, lot_ids …"},
    ),
}


#: the audit trail's filters (issue 12 item 7)
STATS_QUERY: dict[str, Schema] = {"from": STR, "to": STR, "by": STR}
AUDIT_QUERY: dict[str, Schema] = {
    "from": {**STR, "description": "ISO 8601 (without an offset: +08:00), inclusive"},
    "to": {**STR, "description": "ISO 8601 (without an offset: +08:00), exclusive"},
    "actor": {**STR, "description": "the actor's token subject (username) or account id"},
    "limit": {**INT, "description": "1–1000 (JSON, default 100); CSV: up to 10000"},
}


#: the bidder's refund account (户名, 开户行, 账号): all three or none
REFUND_ACCOUNT: Schema = _obj(
    ["refund_name", "refund_bank", "refund_account"],
    refund_name={**STR, "description": "户名"}, refund_bank={**STR, "description": "开户行"},
    refund_account={**STR, "description": "账号: 6–32 位数字 (可用空格或连字符分组)"},
)
#: a lot edit: every field of lot creation, all optional
_HOLDER = _obj(["bidder_id", "order"], bidder_id=INT, order=INT)
_PREEMPTORS = _obj(["lot_id", "holders"], lot_id=INT,
                   holders={"type": "array", "items": _HOLDER})
_LOT_FIELDS: Schema = {
    "title": STR, "result_type": STR, "ip_type": STR, "technology_field": STR,
    "transaction_mode": _enum("转让", "许可", "作价投资"),
    "contract_type": _enum("技术转让", "技术许可", "技术开发", "技术咨询", "技术服务"),
    "holder_name": STR, "holder_uscc": STR, "start_price_fen": FEN, "increment_fen": FEN,
    "reserve_fen": FEN, "non_tech_fen": FEN, "duration_s": INT, "description": STR,
    "deposit_fen": FEN, "appraisal_fen": FEN,
}
REFUND: Schema = {"allOf": [REFUND_ACCOUNT, _obj(
    ["registration_id", "bidder_id", "deposit_fen", "applied_fen", "refund_fen", "released"],
    registration_id=INT, bidder_id=INT, bidder_name=STR,
    bidder_uscc={"type": ["string", "null"]}, bidder_kind=_enum("enterprise", "person"),
    paddle=NULL_INT, status=STR, deposit_fen=FEN, applied_fen=FEN, forfeited_fen=FEN,
    refund_fen=FEN, released_fen=FEN, released={"type": "boolean"})]}


@dataclass(frozen=True, slots=True)
class Operation:
    """One row of the API: method, path, summary and the shapes in and out."""

    method: str
    path: str
    summary: str
    response: Schema
    status: int = 200
    admin: bool = False
    body: Schema | None = None
    query: dict[str, Schema] = field(default_factory=dict)
    tag: str = "catalogue"


OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/healthz", "PostgreSQL and Redis reachability (503 when degraded)",
              _obj(["status", "postgres", "redis"], status=_enum("ok", "degraded"),
                   postgres=STR, redis=STR, server_time_ms=INT,
                   details=_obj([], registration=_obj(
                       [], pending=INT, dead=INT, oldest_pending_age_s={"type": "number"},
                       status=STR))), tag="ops"),
    Operation("get", "/metrics", "Prometheus metrics (text/plain; see docs/operations.md)",
              STR, tag="ops"),
    Operation("post", "/api/v1/registration/retry",
              "把失败 (dead) 的登记移交重新排队: {lot_id} 或 {all_dead: true}",
              _obj(["requeued"], requeued={"type": "array", "items": INT}), admin=True,
              tag="admin", body=_obj([], lot_id=INT, all_dead={"type": "boolean"})),
    Operation("get", "/api/v1/markets/{code}/registration-endpoint",
              "市场的合同登记接收地址 (自设/继承上级/部署默认; 不显示密钥)",
              _ref("RegistrationEndpoint"), admin=True, tag="admin"),
    Operation("put", "/api/v1/markets/{code}/registration-endpoint",
              "设置市场自己的合同登记接收地址和签名密钥", _ref("RegistrationEndpoint"),
              admin=True, tag="admin", body=_obj(["url", "secret"], url=STR, secret=STR)),
    Operation("delete", "/api/v1/markets/{code}/registration-endpoint",
              "删除市场自己的接收地址 (恢复继承)", _ref("RegistrationEndpoint"), admin=True,
              tag="admin"),
    Operation("post", "/api/v1/registration/callback",
              "登记机构的答复回调 (X-Auction-Signature 签名; 401 bad_signature)",
              _obj(["lot_id", "status", "outcome"], lot_id=INT, idempotency_key=STR,
                   status=_enum("registered", "rejected"),
                   registration_no={"type": ["string", "null"]}, reason=STR,
                   outcome=_enum("accepted", "duplicate")),
              tag="registration",
              body=_obj(["idempotency_key", "status"], idempotency_key=STR, packet_id=STR,
                        status=_enum("registered", "rejected"),
                        registration_no={**STR, "pattern": "^[0-9]{16}$"}, reason=STR)),
    Operation("post", "/api/v1/lots/{lot_id}/registration/versions",
              "更正未予登记的登记资料并重新移交 (新版本)", _ref("RegistrationAnswer"), status=201,
              admin=True, tag="admin",
              body=_obj(["corrections"], corrections=_obj(
                  [], contract_subtype=STR, tech_amount_fen=FEN, seller_nature=STR,
                  buyer_nature=STR, seller_region=STR, buyer_region=STR))),
    Operation("get", "/api/v1/lots/{lot_id}/registration/packet",
              "下载已成交标的的登记移交材料 (JSON 文件; version 为版本, 缺省为当前版本; "
              "form=filed 便于阅读, form=sent 为签名发送的原文)", {"type": "object"},
              admin=True, tag="admin",
              query={"version": {"type": "integer", "minimum": 1},
                     "form": _enum("filed", "sent")}),
    Operation("get", "/api/v1/markets", "技术市场列表", _list_of("markets", _ref("Market"))),
    Operation("get", "/api/v1/sessions", "场次列表 (可按市场代码过滤)",
              _list_of("sessions", _ref("Session")), query={"market": STR}),
    Operation("get", "/api/v1/sessions/{session_id}", "场次", _ref("Session")),
    Operation("get", "/api/v1/sessions/{session_id}/lots", "场次的标的 (按序号)",
              _list_of("lots", _ref("Lot"))),
    Operation("get", "/api/v1/lots/{lot_id}", "标的及实时状态 (live)", _ref("Lot")),
    Operation("get", "/api/v1/lots/{lot_id}/bids", "公开出价记录 (仅号牌)",
              _obj(["lot_id", "bids"], lot_id=INT,
                   bids={"type": "array", "items": _ref("Bid")})),
    Operation("get", "/api/v1/lots/{lot_id}/bids/{seq}/receipt",
              "出价回执: 出价竞买人本人下载, 服务器签名, 含该出价在成交记录哈希链中的哈希",
              _obj(["format", "version", "lot_id", "session_id", "seq", "paddle", "amount_fen",
                    "at_ms", "at", "sha256", "alg", "key_id", "signature"],
                   format=_enum("auction-bid-receipt"), version=INT, lot_id=INT,
                   session_id=INT, seq=INT, paddle=INT, amount_fen=INT, at_ms=INT, at=STR,
                   sha256=STR, alg=_enum("Ed25519"), key_id=STR, signature=STR)),
    Operation("get", "/api/v1/receipts/key",
              "出价回执的验签公钥 (Ed25519; 任何人可用它核验回执签名)",
              _obj(["alg", "key_id", "public_key", "public_key_pem"], alg=_enum("Ed25519"),
                   key_id=STR, public_key=STR, public_key_pem=STR)),
    Operation("get", "/api/v1/lots/{lot_id}/registration", "技术合同认定登记移交状态",
              _ref("RegistrationStatus")),
    Operation("get", "/api/v1/results", "成交公示", _list_of("results", _ref("Result")),
              query={"session": INT}),
    Operation("get", "/api/v1/listing", "标的目录: 筛选、搜索、分页, 带标明的价格",
              _obj(["lots", "page", "limit", "total", "rooms", "fields"],
                   lots={"type": "array", "items": _ref("ListingLot")}, page=INT, limit=INT,
                   total=INT, rooms=_enum("ok", "unavailable"),
                   fields={"type": "array", "items": STR,
                           "description": "every technology field of any lot (filter choices)"}),
              query={"market": STR, "status": LOT_STATUS, "season": STR, "field": STR,
                     "q": STR, "session": INT, "page": INT, "limit": INT}),
    Operation("get", "/api/v1/publicity", "成交公示: 受让方、公示期、异议渠道; 流拍与撤拍另列",
              _obj(["sold", "passed", "withdrawn", "sessions"],
                   sold={"type": "array", "items": _ref("PublicityLot")},
                   passed={"type": "array", "items": _ref("PublicityLot")},
                   withdrawn={"type": "array", "items": _ref("PublicityLot")},
                   sessions={"type": "array", "items": _obj(
                       ["session_id", "session_name", "head_sha256"], session_id=INT,
                       session_name=STR, head_sha256={"type": ["string", "null"],
                       "description": "成交记录哈希链的场次头哈希 (场次结束后; 否则 null)"})}),
              query={"session": INT, "market": STR}),
    Operation("post", "/api/v1/bidders",
              "竞买人实名登记: 企业 (校验统一社会信用代码) 或自然人 (kind=person, 校验公民身份"
              "号码与电话); 平台管理员以外一律 202 已受理, 结果以所设用户名和密码登录查看; 平台"
              "管理员得 201 与竞买人 (Bidder, 身份证号脱敏) 或 409",
              _obj(["status", "message"], status=_enum("accepted"), message=STR), status=202,
              tag="registration",
              body=_obj(["name"], kind=_enum("enterprise", "person"), name=STR,
                        uscc={**STR, "description": "enterprise: required"}, contact=STR,
                        legal_representative=STR, username=STR, password=STR,
                        person_name={**STR, "description": "enterprise: the account holder"},
                        resident_id={**STR, "description": "person: required; enterprise: "
                                     "the account holder's"},
                        phone={**STR, "description": "person: required"})),
    Operation("post", "/api/v1/sessions/{session_id}/registrations",
              "竞买报名 (竞买人本人登录); 市场现场代报名为 invited, 须竞买人确认后生效",
              _ref("Registration"), status=201, admin=True, tag="registration",
              body=_obj(["bidder_id"], bidder_id=INT, agreed={
                  "type": "boolean", "description": "同意拍卖公告和竞买须知 (场次有时必填 true)"},
                  **REFUND_ACCOUNT["properties"])),
    Operation("get", "/api/v1/sessions/{session_id}/registrations",
              "场次报名列表 (竞买人报名后才显示其名称)",
              _obj(["session_id", "registrations"], session_id=INT, registrations={
                  "type": "array", "items": {"allOf": [_ref("Registration"), _obj(
                      [], bidder_name={"type": ["string", "null"]},
                      bidder_uscc={"type": ["string", "null"]}, status_text=STR,
                      agreed_at={"type": ["string", "null"]},
                      documents={"type": "array", "items": _ref("File")})]}}),
              admin=True, tag="registration"),
    Operation("post", "/api/v1/registrations/{registration_id}/accept",
              "竞买人确认市场代报名 (invited → applied)", _ref("Registration"), admin=True,
              tag="registration"),
    Operation("post", "/api/v1/registrations/{registration_id}/withdraw",
              "竞买人撤回报名 (竞价开始前; 已确认的保证金退还, 竞买凭证吊销)",
              _ref("Registration"), admin=True, tag="registration"),
    Operation("get", "/api/v1/registrations/mine", "竞买人本人登录: 本企业的报名 (新的在前)",
              _list_of("registrations", _ref("Registration")), admin=True, tag="registration"),
    Operation("get", "/api/v1/registrations/{registration_id}/history",
              "报名各步骤: 操作人与时间",
              _obj(["registration", "steps"], registration=_ref("Registration"),
                   steps={"type": "array", "items": _ref("RegistrationStep")}),
              admin=True, tag="registration"),
    Operation("post", "/api/v1/markets", "新建技术市场", _ref("Market"), status=201,
              admin=True, tag="admin",
              body=_obj(["code", "slug", "name", "level"], code=STR, slug=STR, name=STR,
                        level=_enum("province", "city", "county"), parent_code=STR)),
    Operation("post", "/api/v1/sessions", "新建场次", _ref("Session"), status=201, admin=True,
              tag="admin",
              body=_obj(["market_code", "name", "season", "mode", "starts_at"], market_code=STR,
                        name=STR, season=_enum("spring", "autumn", "special"),
                        mode=_enum("live", "timed"), starts_at=TIME, extension_window_s=INT,
                        extension_s=INT, increments=INCREMENTS, announcement=STR, terms=STR,
                        contact_phone=STR, registration_deadline=TIME, payee_name=STR,
                        payee_bank=STR, payee_account=STR, ends_at=TIME, close_gap_s=INT,
                        max_extensions=INT, hard_end_at=TIME,
                        draft={"type": "boolean",
                               "description": "true: a draft until published (default false)"})),
    Operation("post", "/api/v1/sessions/{session_id}/publish",
              "发布场次 (已发布: 原样返回; 没有标的: 409 no_lots)", _ref("Session"),
              admin=True, tag="admin"),
    Operation("get", "/api/v1/sessions/{session_id}/progress",
              "场次进度: 报名人数, 各状态标的数, 成交总额, 拍卖顺序 (工作人员)",
              _ref("Progress"), admin=True, tag="console"),
    Operation("post", "/api/v1/sessions/{session_id}/lots",
              "新建标的 (同时创建实时竞价房间); 加价幅度超出指导标准时 warnings 提示, 仍创建",
              _ref("Lot"), status=201, admin=True, tag="admin",
              body=_obj(["title", "result_type", "ip_type", "technology_field",
                         "transaction_mode", "contract_type", "holder_name", "holder_uscc",
                         "start_price_fen", "increment_fen"],
                        title=STR, result_type=STR, ip_type=STR, technology_field=STR,
                        transaction_mode=_enum("转让", "许可", "作价投资"),
                        contract_type=_enum("技术转让", "技术许可", "技术开发", "技术咨询",
                                            "技术服务"),
                        holder_name=STR, holder_uscc=STR, start_price_fen=FEN,
                        increment_fen=FEN, reserve_fen=FEN, non_tech_fen=FEN, duration_s=INT,
                        description=STR, deposit_fen=FEN, appraisal_fen=FEN, starts_at=TIME,
                        format=_enum("english", "sealed", "dutch", "rounds", "listing"),
                        revisions=INT,
                        step_fen=FEN, interval_s=INT, floor_fen=FEN, free_s=INT,
                        round_s=INT, preempt_window_s=INT, listing_days=INT,
                        listing_ends_at=TIME)),
    Operation("post", "/api/v1/lots/{lot_id}/relist",
              "重新挂拍流拍或悔拍的标的到同一市场 (或下级) 的较晚场次; 起拍价不低于原起拍价的"
              " 80% (否则 409 relist_discount_too_large)", _ref("Lot"), status=201, admin=True,
              tag="admin",
              body={"type": "object", "required": ["session_id", "start_price_fen"],
                    "properties": {**_LOT_FIELDS, "session_id": INT, "starts_at": TIME}}),
    Operation("post", "/api/v1/lots/{lot_id}/commands",
              "拍卖师指令 (docs/protocol.md \"Console commands\": ops and their args)",
              _obj(["lot_id", "seq", "at"], lot_id=INT, seq=INT, at=INT, ends_at_ms=INT,
                   outcome={"type": ["string", "null"]}, replay={"type": "boolean"}),
              admin=True, tag="console",
              body=_obj(["op", "key"], op=_enum(*COMMAND_OPS), args={"type": "object"},
                        key=STR)),
    Operation("post", "/api/v1/sessions/{session_id}/staff-tokens",
              "签发本场次拍卖师令牌 (随签发账号停用而吊销)",
              _obj(["token"], token=STR, role=STR, session_id=INT), admin=True, tag="admin",
              body=_obj(["name"], role=_enum("auctioneer"), name=STR)),
    Operation("post", "/api/v1/registrations/{registration_id}/approve", "审核通过报名",
              _ref("Registration"), admin=True, tag="admin"),
    Operation("post", "/api/v1/registrations/{registration_id}/reject", "驳回报名",
              _ref("Registration"), admin=True, tag="admin", body=_obj(["reason"], reason=STR)),
    Operation("post", "/api/v1/registrations/{registration_id}/deposit",
              "财务确认保证金到账 (须已审核通过; 不足为 422 deposit_insufficient): 分配号牌"
              " (从 101 起); 不签发任何令牌",
              _obj(["registration", "paddle"], registration=_ref("Registration"),
                   paddle=INT),
              admin=True, tag="admin",
              body=_obj(["deposit_fen"], deposit_fen=FEN, lot_id=INT)),
    Operation("post", "/api/v1/auth/login",
              "登录: 用户名与密码换取令牌; cookie=true 时令牌写入 HttpOnly Cookie (页面用), 应答带"
              " csrf_token 而不带 token",
              _obj(["role", "expires_at"], token=STR, token_type=_enum("Bearer", "Cookie"),
                   csrf_token={**STR, "description": "cookie login: send as X-CSRF-Token"},
                   role=STR, expires_at={**INT, "description": "unix seconds"},
                   account=_ref("Account")),
              tag="auth", body=_obj(["username", "password"], username=STR, password=STR,
                                    cookie={"type": "boolean"})),
    Operation("post", "/api/v1/auth/password",
              "修改本人密码; 该账号此前的全部令牌吊销, 应答 (或 Cookie) 带新的登录",
              _obj(["changed", "expires_at"], changed={"type": "boolean"}, token=STR,
                   token_type=_enum("Bearer", "Cookie"), csrf_token=STR, role=STR,
                   expires_at={**INT, "description": "unix seconds"}),
              admin=True, tag="auth",
              body=_obj(["old_password", "new_password"], old_password=STR,
                        new_password=STR)),
    Operation("post", "/api/v1/auth/logout", "注销当前令牌 (其 websocket 以 4401 关闭)",
              _obj(["revoked"], revoked={"type": "boolean"}), admin=True, tag="auth"),
    Operation("get", "/api/v1/auth/me", "当前身份及可管理的技术市场",
              _obj(["role", "scope"], role=STR, subject=STR, account_id=NULL_INT,
                   market_id=NULL_INT, session_id=NULL_INT, bidder_id=NULL_INT,
                   paddle=NULL_INT, expires_at=NULL_INT,
                   scope={"type": "array", "items": STR}, via=_enum("bearer", "cookie"),
                   account={**_ref("Account"), "description": "an account's own login"}),
              admin=True, tag="auth"),
    Operation("post", "/api/v1/accounts", "新建工作人员账号", _ref("Account"), status=201,
              admin=True, tag="auth",
              body=_obj(["username", "password", "role"], username=STR, password=STR,
                        role=_enum("platform_admin", "market_admin", "auctioneer", "finance"),
                        market_code=STR, person_name=STR, resident_id=STR)),
    Operation("post", "/api/v1/accounts/{account_id}/disable", "停用账号并吊销其全部令牌",
              _ref("Account"), admin=True, tag="auth"),
    Operation("get", "/api/v1/markets/{code}/accounts",
              "本市场及下级市场的工作人员账号 (市场管理员及以上; 不含密码)",
              _obj(["market_code", "accounts"], market_code=STR, accounts={
                  "type": "array", "items": _obj(
                      ["id", "username", "role", "market_code", "disabled"], id=INT,
                      username=STR, name=STR,
                      role=_enum("market_admin", "auctioneer", "finance"),
                      market_code=STR, market_name=STR, disabled={"type": "boolean"},
                      created_at=TIME)}),
              admin=True, tag="auth"),
    Operation("post", "/api/v1/accounts/{account_id}/password",
              "重置工作人员账号的密码并吊销其全部令牌 (竞买人账号不可)",
              _obj(["id", "password_reset"], id=INT, password_reset={"type": "boolean"}),
              admin=True, tag="auth", body=_obj(["new_password"], new_password=STR)),
    Operation("patch", "/api/v1/accounts/{account_id}",
              "修改工作人员账号的角色或所属市场, 并吊销其全部令牌", _ref("Account"),
              admin=True, tag="auth",
              body=_obj([], role=_enum("market_admin", "auctioneer", "finance"),
                        market_code=STR)),
    Operation("post", "/api/v1/registrations/{registration_id}/token",
              "竞买人本人登录领取本报名的竞买凭证 (含号牌; 只有竞买人本人可以领取)",
              _obj(["registration", "paddle", "token", "expires_at"],
                   registration=_ref("Registration"), paddle=INT, token=STR, token_type=STR,
                   expires_at={**INT, "description": "unix seconds"}),
              admin=True, tag="registration"),
    Operation("post", "/api/v1/registrations/{registration_id}/agent",
              "登记委托代理人 (竞价开始前)",
              _obj(["registration_id", "agent_name"], registration_id=INT, agent_name=STR,
                   agent_resident_id=STR, recorded_at=TIME, account_id=INT),
              admin=True, tag="registration",
              body=_obj(["agent_name", "agent_resident_id"], agent_name=STR,
                        agent_resident_id=STR, username=STR, password=STR)),
    Operation("get", "/api/v1/sessions/{session_id}/deposits",
              "场次保证金列表 (state=released 为待退款)",
              _obj(["session_id", "deposits", "total_fen"], session_id=INT, total_fen=FEN,
                   deposits={"type": "array", "items": _ref("Deposit")}),
              admin=True, tag="deposits",
              query={"state": _enum("required", "confirmed", "held", "released", "applied",
                                    "forfeited")}),
    Operation("post", "/api/v1/sessions/{session_id}/deposits/settle",
              "场次结束: 买受人保证金转为价款 (applied), 其余退还 (released)",
              _obj(["session_id"], session_id=INT, applied=INT, applied_fen=FEN, released=INT,
                   released_fen=FEN), admin=True, tag="deposits"),
    Operation("post", "/api/v1/deposits/{deposit_id}/forfeit", "没收保证金 (悔拍)",
              _ref("Deposit"), admin=True, tag="deposits", body=_obj(["reason"], reason=STR)),
    Operation("get", "/api/v1/markets/{code}/ledger", "保证金台账: 各市场收支守恒核对",
              _obj(["market_code", "markets", "conserved"], market_code=STR,
                   conserved={"type": "boolean"},
                   markets={"type": "array", "items": _ref("MarketLedger")}),
              admin=True, tag="deposits"),
    # -- issue 11: files --
    Operation("post", "/api/v1/lots/{lot_id}/attachments",
              "上传标的图片或附件 (管理该市场场次的工作人员): 请求体为文件本身 (Content-Type 为其"
              "类型, ?filename=, ?label=) 或 multipart/form-data (file, label); PNG/JPEG/WebP/PDF,"
              " ≤ 5 MiB", _ref("File"), status=201, admin=True, tag="admin",
              query={"filename": STR, "label": STR}),
    Operation("get", "/api/v1/lots/{lot_id}/attachments/{file_id}",
              "标的图片或附件 (原文件, 带 Content-Disposition 与 nosniff)", STR),
    Operation("patch", "/api/v1/sessions/{session_id}",
              "修改场次的拍卖公告、竞买须知、联系电话、报名截止时间与保证金收款账户 (竞价开始前;"
              " 未给出的字段不变)", _ref("Session"), admin=True, tag="admin",
              body=_obj([], announcement=STR, terms=STR, contact_phone=STR,
                        registration_deadline=TIME, payee_name=STR, payee_bank=STR,
                        payee_account=STR, starts_at=TIME, ends_at=TIME, close_gap_s=INT,
                        max_extensions=INT, hard_end_at=TIME)),
    Operation("delete", "/api/v1/lots/{lot_id}/attachments/{file_id}",
              "删除标的图片或附件 (管理该市场场次的工作人员)",
              _obj(["deleted", "id"], deleted={"type": "boolean"}, id=INT), admin=True,
              tag="admin"),
    Operation("delete", "/api/v1/registrations/{registration_id}/documents/{file_id}",
              "竞买人本人删除报名材料 (仅待审核 applied 时)",
              _obj(["deleted", "id"], deleted={"type": "boolean"}, id=INT), admin=True,
              tag="registration"),
    Operation("post", "/api/v1/registrations/{registration_id}/documents",
              "竞买人本人上传报名材料 (营业执照复印件等; 同标的附件的格式与大小限制)",
              _ref("File"), status=201, admin=True, tag="registration",
              query={"filename": STR, "label": STR}),
    Operation("get", "/api/v1/me/auction",
              "我的竞拍 (竞买人本人登录): 报名, 保证金及状态, 出价的标的 (领先/出局), 竞得的标的",
              _ref("MyAuction"), admin=True, tag="registration"),
    Operation("get", "/api/v1/registrations/{registration_id}",
              "报名详情: 状态, 驳回理由, 同意时间, 代理人, 材料, 应交保证金 (金额, 收款账户,"
              " 转账附言, 截止时间), 号牌 (竞买人本人; 该市场的管理员与财务)",
              _ref("RegistrationView"), admin=True, tag="registration"),
    Operation("get", "/api/v1/registrations/{registration_id}/documents/{file_id}",
              "报名材料原文件 (竞买人本人; 该市场的管理员与财务)", STR, admin=True,
              tag="registration"),
    # -- issue 12: lots from a spreadsheet, the session report --
    Operation("get", "/api/v1/lots/import-template.xlsx",
              "标的导入模板 (XLSX: 中文列名, 接口字段名, 示例行, 选项列表; 公开)", STR),
    Operation("post", "/api/v1/sessions/{session_id}/lots/import",
              "从 XLSX 或 CSV 批量导入标的 (请求体为文件本身或 multipart file; ≤ 2 MiB, ≤ 500 行):"
              " 每行按新建标的同样校验; 任一行有误则一个不建, 400 import_failed 列出 errors"
              " [{row, field, column, code, message}]; dry_run=true 只校验 (200)",
              _obj(["dry_run", "session_id", "lots"], dry_run={"type": "boolean"},
                   session_id=INT, lots={"type": "array", "items": {"allOf": [
                       _ref("Lot"), _obj(["row"], row={
                           **INT, "description": "the spreadsheet's row number"})]}}),
              status=201, admin=True, tag="admin", query={"dry_run": {"type": "boolean"}}),
    Operation("get", "/api/v1/sessions/{session_id}/report",
              "场次报告: 标的结果 (成交价, 买受人, 号牌, 出价次数), 竞买人, 保证金 (转为价款与"
              "退还), 合计 (该市场管理员、财务、拍卖师)", _ref("SessionReport"), admin=True,
              tag="console"),
    Operation("get", "/api/v1/sessions/{session_id}/report.xlsx",
              "场次报告 XLSX (汇总, 标的, 竞买人, 保证金; 金额以元计)", STR, admin=True,
              tag="console"),
    # -- issue 12 items 3 and 4: lot edits, the running order, refunds --
    Operation("patch", "/api/v1/lots/{lot_id}",
              "修改标的 (竞价开始前; 字段同新建标的, 未给出的不变; 实时竞价房间的起拍价、加价幅度、"
              "保留价、时长与保证金原子地同步; 竞价已开始为 409 bidding_started; 限时标的的"
              " starts_at 只能在其开始时间到来之前修改, 否则 409 start_passed, null 为随场次开始)",
              _ref("Lot"), admin=True, tag="admin", body={"type": "object", "properties": {
                  **_LOT_FIELDS, "starts_at": {**TIME, "type": ["string", "null"]}}}),
    Operation("get", "/api/v1/lots/{lot_id}/edit",
              "标的编辑表单: 管理视图 (含保留价、持有人信用代码), deposit_fen, warnings, editable",
              {"allOf": [_ref("Lot"), _obj(["editable"], editable={"type": "boolean"},
                                           session=_obj([], id=INT, name=STR, mode=STR))]},
              admin=True, tag="admin"),
    Operation("put", "/api/v1/sessions/{session_id}/order",
              "调整标的顺序: lot_ids 须恰为本场次全部标的; 序号按此顺序为 1..n (竞价开始前)",
              _obj(["session_id", "lots"], session_id=INT,
                   lots={"type": "array", "items": _ref("Lot")}),
              admin=True, tag="admin",
              body=_obj(["lot_ids"], lot_ids={"type": "array", "items": INT})),
    Operation("get", "/api/v1/sessions/{session_id}/refunds",
              "退款清单: 每个已交保证金的报名 (号牌, 已交, 转为价款, 没收, 应退, 是否已退) 与竞买"
              "人的退款账户; 场次结束时间与退款截止日 (财务, 市场管理员)",
              _obj(["session_id", "refunds", "totals", "releasable"], session_id=INT,
                   session_closed_at={"type": ["string", "null"]},
                   refund_due={"type": ["string", "null"], "format": "date"},
                   releasable={"type": "boolean"},
                   refunds={"type": "array", "items": REFUND},
                   totals=_obj([], deposit_fen=FEN, applied_fen=FEN, forfeited_fen=FEN,
                               refund_fen=FEN, released_fen=FEN)),
              admin=True, tag="deposits"),
    Operation("get", "/api/v1/sessions/{session_id}/refunds.csv",
              "退款清单 CSV (UTF-8 带 BOM; 金额以元计)", STR, admin=True, tag="deposits"),
    Operation("put", "/api/v1/registrations/{registration_id}/refund-account",
              "竞买人本人填写或修改退款账户 (户名, 开户行, 账号; 保证金被没收后不可)",
              {"allOf": [REFUND_ACCOUNT, _obj(["registration_id"], registration_id=INT)]},
              admin=True, tag="registration", body=REFUND_ACCOUNT),
    # -- issue 12 item 7: the audit trail --
    Operation("get", "/api/v1/markets/{code}/audit",
              "操作日志: 该市场及下级市场经接口成功的每一次写操作 (时间, 操作人, 路由, 请求体"
              " [密码与令牌已隐去, 身份证号打码], 状态, 新建的编号), 新的在前 (市场管理员; 平台"
              "管理员)", _obj(["market_code", "entries"], market_code=STR, entries={
                  "type": "array", "items": _ref("AuditEntry")}),
              admin=True, tag="admin", query=AUDIT_QUERY),
    Operation("get", "/api/v1/markets/{code}/audit.csv",
              "操作日志 CSV (UTF-8 带 BOM, Excel 可直接打开中文; 至多 10000 行)", STR, admin=True,
              tag="admin", query=AUDIT_QUERY),
    # -- issue 13 item 1: 成交确认书 --
    Operation("get", "/api/v1/lots/{lot_id}/confirmation.pdf",
              "成交确认书 PDF (买受人本人登录; 该市场管理员、财务): 未成交 404 no_confirmation;"
              " 同一标的每次生成的文件逐字节相同", STR, admin=True, tag="results"),
    Operation("get", "/api/v1/lots/{lot_id}/confirmation",
              "成交确认书核验 (公开): digest 为该标的出价记录摘要时返回确认书所载事实 (自然人"
              "买受人打码), 否则 404 no_confirmation", _ref("Confirmation"), tag="results",
              query={"digest": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}}),
    # -- issue 13 items 2 and 4: payment of the balance, 悔拍, 成交公示 --
    Operation("get", "/api/v1/lots/{lot_id}/payment",
              "尾款: 成交价, 已转价款的保证金, 尾款, 已付, 未付, 付款期限, 状态 (待付款 / 已付清 /"
              " 逾期 / 悔拍) 与付款记录 (财务、市场管理员; 买受人本人)", _ref("LotPayment"),
              admin=True, tag="admin"),
    Operation("post", "/api/v1/lots/{lot_id}/payments",
              "登记买受人的一笔尾款 (可分笔; 超过未付余额 400 overpayment; 同一银行流水号 409"
              " duplicate_reference)", _obj(["id", "payment", "account"], id=INT,
                                            payment={"type": "object"},
                                            account=_ref("LotPayment")),
              status=201, admin=True, tag="admin",
              body=_obj(["amount_fen", "paid_on", "bank_reference"], amount_fen=FEN,
                        paid_on=DATE, bank_reference=STR)),
    Operation("get", "/api/v1/sessions/{session_id}/payments",
              "场次已成交标的及其尾款状态", _obj(["session_id", "sales"], session_id=INT,
                                                today=DATE, sales={"type": "array",
                                                                   "items": _ref("LotPayment")}),
              admin=True, tag="admin"),
    Operation("post", "/api/v1/lots/{lot_id}/default",
              "宣布悔拍: 付款期限届满仍未付清时 (否则 409 not_overdue / paid), 没收买受人保证金,"
              " 记入竞买人的违约记录", _ref("LotPayment"), admin=True, tag="admin",
              body=_obj(["reason"], reason=STR)),
    Operation("patch", "/api/v1/markets/{code}",
              "技术市场的成交公示设置: 公示期 (工作日) 与异议联系方式 (市场管理员)",
              _ref("MarketNotice"), admin=True, tag="admin",
              body=_obj([], notice_working_days=INT, objection_contact=STR)),
    Operation("post", "/api/v1/lots/{lot_id}/objections",
              "对成交公示提出异议 (无需登录; 按来源地址限流; 公示期结束后 409 notice_closed)",
              _obj(["id", "lot_id", "filed_at", "status"], id=INT, lot_id=INT, filed_at=TIME,
                   status=STR), status=201,
              body=_obj(["name", "contact", "text"], name=STR, contact=STR, text=STR)),
    Operation("get", "/api/v1/sessions/{session_id}/objections", "场次标的收到的异议",
              _obj(["session_id", "objections"], session_id=INT, market=_ref("MarketNotice"),
                   objections={"type": "array", "items": _ref("Objection")}), admin=True,
              tag="admin"),
    Operation("post", "/api/v1/objections/{objection_id}/resolution",
              "记录异议的处理结果 (一次; 再次 409 already_resolved)", _ref("Objection"),
              admin=True, tag="admin", body=_obj(["resolution"], resolution=STR)),
    # -- issue 16 items 1-3: vocabularies, statistics, subsidy estimates --
    Operation("get", "/api/v1/vocabularies",
              "词表 (公开): 技术领域、成果类型、知识产权类别、合同类型、交易方式、主体性质,"
              " 按日期生效, 含键、中文名、别名、来源", _obj(["as_of", "vocabularies"], as_of=DATE,
                                               vocabularies={"type": "object"}),
              tag="catalogue", query={"on": DATE}),
    Operation("get", "/api/v1/markets/{code}/statistics",
              "技术合同成交统计: 成交与已登记的笔数、合同交易总额、技术交易额, 下级市场与本级场次"
              "汇总 (二者之和即合计), 分类汇总, 补贴预估 (市场管理员、财务)",
              {"type": "object"}, admin=True, tag="admin", query=STATS_QUERY),
    Operation("get", "/api/v1/markets/{code}/statistics.csv",
              "技术合同成交统计 CSV (UTF-8 带 BOM; 金额以元计)", STR, admin=True, tag="admin",
              query=STATS_QUERY),
    Operation("get", "/api/v1/markets/{code}/statistics.xlsx",
              "技术合同成交统计 XLSX (金额以元计; 另一工作表为补贴规则)", STR, admin=True,
              tag="admin", query=STATS_QUERY),
    Operation("get", "/api/v1/me/subsidy-estimates",
              "我的补贴预估 (竞买人本人登录): 已登记合同按补贴规则的预估额, 含上限",
              _obj(["label", "estimates"], label=STR, estimates={"type": "array"}), admin=True,
              tag="registration"),
)

_ERRORS = {
    "400": "bad_request / invalid_uscc / …", "401": "unauthorized", "403": "forbidden",
    "404": "not_found", "409": "conflict / wrong_state", "422": "rule rejection (too_low …)",
    "503": "unavailable",
}


def _operation(op: Operation) -> Schema:
    params: list[Schema] = [
        {"name": name, "in": "path", "required": True, "schema": STR if name == "code" else INT}
        for name in _path_params(op.path)
    ]
    params += [{"name": n, "in": "query", "required": False, "schema": s}
               for n, s in op.query.items()]
    out: Schema = {
        "summary": op.summary,
        "tags": [op.tag],
        "responses": {
            str(op.status): {"description": "OK",
                             "content": {"application/json": {"schema": op.response}}},
            **{code: {"description": text,
                      "content": {"application/json": {"schema": _ref("Error")}}}
               for code, text in _ERRORS.items()},
        },
    }
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": op.body}}
        }
    if op.admin:
        out["security"] = [{"bearer": []}]
    return out


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def document() -> Schema:
    """The OpenAPI document (a fresh dict each call)."""
    paths: dict[str, Schema] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "科技成果竞价(拍卖)引擎 HTTP API", "version": "1",
            "description": "Money is integer fen (分); timestamps are RFC 3339 with +08:00. "
            "Live bidding runs over the websocket at /ws (docs/protocol.md).",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


async def openapi_endpoint(request: Request) -> JSONResponse:
    return JSONResponse(document())


routes: list[BaseRoute] = [
    Route("/openapi.json", openapi_endpoint, methods=["GET"], include_in_schema=False)
]
