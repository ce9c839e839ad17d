// The bidder page: lot.html?id=N. The bid credential comes from the bidder's own login (username
// and password: the page logs in, finds the registration of this lot's session and takes its
// credential; the login token itself is not kept), or as #token=… or pasted.
//
// Everything a bidder must know (issue 11): the price under its label (起拍价 / 当前价 /
// 成交价 / 流拍), the lot's facts (保证金, 保留价 有/无, 评估价, times, the 延时 rule and how many
// times it ran, 报名人数, 围观人数, the contact phone), the bid record, the description, pictures
// and attachments, the session's 拍卖公告 and 竞买须知. A closed lot shows its result and no bid
// controls; a lot that does not exist shows 标的不存在 and opens no connection.
import {
  api, clock, dateTime, duration, el, lang, nackText, paintConn, param, parseYuan, passReason,
  retrying, setupLang, sourceText, statusText, storeToken, t, takeToken, warningText, yuan,
} from "./common.js";
import { formatOf, quoteAcked, renderFormat, setupFormat } from "./lot-formats.js";
import { listingBanner, listingClock, listingState, renderListing } from "./lot-listing.js";
import { AuctionConnection, dutchPrice, newKey, nextBid } from "./protocol.js";

const LARGE_JUMP_STEPS = 5; // a bid this many increments above the next bid asks first
const CLOSED = new Set(["sold", "passed", "withdrawn"]);
const $ = (id) => document.getElementById(id);

/** The lot id of the address: a positive integer, else null (标的不存在 without asking). */
function lotParam() {
  const raw = (param("id") || "").trim();
  return /^[1-9]\d{0,18}$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : null;
}

const lotId = lotParam();
let info = null; // the lot from the HTTP API
let session = null;
let missing = lotId === null;
let token = takeToken("bidder");
const conn = new AuctionConnection({ token });
const feed = conn.watch(lotId || 0);
let notice = null; // {key, kind, vars}
let feedback = null; // {text, kind, next}: next = the next bid when a refusal was shown
let pendingBid = null; // {amount, key}: sent, not yet answered
let busy = false;
let bandsOpen = false; // the band table's <details>, opened by the bidder
window.auctionDebug = { conn, lotId, feed };

function myPaddle() {
  const w = conn.welcome;
  return w && w.role === "bidder" ? w.paddle : null;
}

function mayBid() {
  const w = conn.welcome;
  if (!w || w.role !== "bidder") return false;
  // a bid credential names its session and paddle; the login cookie's socket (a bidder's
  // account, no session) does not bid: its bids would be refused 不是该场次的竞买人 while
  // the credential's new socket is still opening
  if (!w.session || !w.paddle) return false;
  const sess = feed.state?.session || info?.session_id;
  return !sess || w.session === sess;
}

function showNotice(key, kind = "", vars = {}) {
  notice = { key, kind, vars };
  render();
}

/** The lot's state: the room's when the socket has it, else the catalogue's (a closed lot whose
 * room is gone, the page before the first snapshot). */
function lotState() {
  if (feed.state) return feed.state;
  if (!info) return null;
  const live = info.live;
  if (live) return live;
  const r = info.result;
  return {
    status: info.status, mode: session?.mode || (info.duration_s ? "timed" : "live"),
    start: info.start_price_fen, inc: info.increment_fen, bids: r ? r.bid_count || 0 : 0,
    high: r?.outcome === "sold" ? r.amount_fen : 0, paddle: r?.paddle || 0, ends_at: 0,
    extensions: 0, closed_at: 0, fromCatalogue: true,
  };
}

/** Why a passed or withdrawn lot ended: the event's reason, else the settled result's. */
function closeReason(s) {
  const code = s.reason || info?.result?.reason || "";
  if (s.status === "withdrawn") return code;
  return code ? passReason(code) || info?.result?.reason_text || code : "";
}

function renderStanding(s) {
  const box = $("standing");
  const mine = myPaddle();
  let text = "";
  let cls = "neutral";
  let state = "none";
  if (!s) {
    text = "";
  } else if (s.status === "sold") {
    cls = "sold";
    state = mine && s.paddle === mine ? "won" : "sold";
    text = state === "won" ? t("won") : t("sold_to", { paddle: s.paddle });
  } else if (s.status === "passed") {
    cls = "passed";
    state = "passed";
    const reason = closeReason(s);
    text = reason ? `${t("passed_text")} · ${reason}` : t("passed_text");
  } else if (s.status === "withdrawn") {
    cls = "passed";
    state = "withdrawn";
    const reason = closeReason(s);
    text = reason ? `${t("withdrawn_text")} · ${reason}` : t("withdrawn_text");
  } else if (mine && s.status === "open") {
    const iBid = feed.standing().some((b) => b.paddle === mine);
    if (s.bids > 0 && s.paddle === mine) {
      cls = "leading";
      state = "leading";
      text = t("leading");
    } else if (iBid) {
      cls = "outbid";
      state = "outbid";
      text = t("outbid");
    } else {
      text = t("not_bidding");
    }
  } else if (s.status === "scheduled") {
    text = t("not_open_yet");
  }
  // a listing says 挂牌中 / 挂牌期满 / 协议成交 in its banner (renderLive): not 尚未开拍 here,
  // nor 流拍 or 成交 again (its one buyer still reads 您已竞得)
  if (listingBanner(info, s?.status, conn.now()) && state !== "won") {
    text = "";
    state = "listing";
  }
  box.textContent = text;
  box.className = `standing ${cls}${text ? "" : " hidden"}`;
  box.dataset.state = state;
}

/** Bids are possible: the lot open and running, the link up, a credential of this session. */
function biddable(s) {
  return Boolean(s && s.status === "open" && !s.paused_at && mayBid() && conn.status === "open"
    && !(s.bids > 0 && s.paddle === myPaddle()));
}

function renderQuick(s) {
  const quick = $("quick");
  quick.textContent = "";
  const closed = !s || CLOSED.has(s.status);
  const fmt = formatOf(s, info); // a Dutch lot takes no bid; a sealed lot's bid is a quote
  // a Dutch lot is accepted, not bid on; a listing takes no bid in its period (L1)
  $("bid-card").classList.toggle("hidden", missing || (Boolean(s) && closed) || fmt === "dutch"
    || fmt === "listing");
  $("bid-title").textContent = t(fmt === "sealed" ? "fmt_sealed_submit" : "quick_bid");
  const enabled = !closed && biddable(s);
  for (const b of $("custom").querySelectorAll("button, input")) b.disabled = !enabled;
  if (!s || closed || !["english", "rounds"].includes(fmt)) return; // none made up, none closed
  const next = nextBid(s);
  for (let k = 0; k < 3; k++) {
    const amount = next + k * (s.inc || 0);
    const label = k === 0 ? t("next_bid") : `+${k} × ${t("increment")}`;
    quick.append(el("button", {
      type: "button", class: k === 0 ? "primary" : "", "data-amount": String(amount),
      disabled: !enabled || busy, onclick: () => placeBid(amount),
    }, yuan(amount, false), el("span", { class: "sub", text: label })));
  }
}

// issue 16 item 5: the bidder's own accepted bids each offer their signed receipt (GET
// /api/v1/lots/{id}/bids/{seq}/receipt with the cookie login; docs/formats.md "Bid receipt")
function receiptLink(b) {
  const en = lang() === "en";
  return el("a", {
    class: "receipt small", href: `/api/v1/lots/${lotId}/bids/${b.seq}/receipt`,
    download: `receipt-lot${lotId}-seq${b.seq}.json`, "data-receipt-seq": String(b.seq),
    "aria-label": en ? `Receipt of bid #${b.seq}` : `下载回执 第 ${b.seq} 号出价`,
    title: en ? "Download the signed receipt of this bid" : "下载本次出价的签名回执",
    text: en ? "Receipt" : "下载回执",
  });
}

function renderLadder(s) {
  const body = $("ladder").tBodies[0];
  body.textContent = "";
  const mine = myPaddle();
  const bids = feed.bids();
  for (const b of bids) {
    const lead = s && s.bids > 0 && !b.retracted && b.seq === (s.high_seq || -1);
    // 场内 / 电话 beside the paddle; 委托 for a proxy's automatic bid, 报价 for a sealed quote
    let src = sourceText(b.source);
    if (b.preempt) src = t("preempt_bid");
    else if (b.auto) src = t("auto_bid");
    else if (b.sealed) src = t("sealed_quote");
    else if (b.source === "listing") src = t("lst_agreement_bid");  // 协议成交 at a listing's end
    const cls = [lead ? "lead" : "", mine && b.paddle === mine ? "mine" : "",
      b.retracted ? "retracted" : ""];
    body.append(el("tr", {
      "data-seq": String(b.seq), "data-paddle": String(b.paddle),
      "data-source": b.source || "online", class: cls.join(" ").trim(),
    }, el("td", { class: "num" }, b.paddle, // the spaces let the tags wrap on a narrow phone
      src ? " " : null, src ? el("span", { class: `src src-${b.source}`, text: src }) : null,
      b.retracted ? " " : null,
      b.retracted ? el("span", { class: "tag-retracted", text: t("retracted") }) : null,
      mine && b.paddle === mine ? " " : null, mine && b.paddle === mine ? receiptLink(b) : null),
    el("td", { class: "r num" }, yuan(b.amount, false)),
    el("td", { class: "r num small t" }, clock(b.at))));
  }
  $("ladder-empty").classList.toggle("hidden", bids.length > 0);
  $("ladder-note").textContent = feed.historyComplete || !s?.bids ? "" : t("history_partial");
}

function renderReg() {
  const w = conn.welcome;
  const reg = $("reg");
  let text = t("reg_none");
  if (w?.role === "bidder") {
    // the login cookie's socket (no session) until the bid credential's socket is open
    text = !w.session ? t("reg_account")
      : mayBid() ? t("reg_ok", { paddle: w.paddle }) : t("reg_other");
  }
  else if (w && w.role !== "viewer") text = t("reg_staff");
  reg.textContent = text;
  reg.dataset.role = w?.role || "";
  const loggedIn = Boolean(token);
  $("login").classList.toggle("hidden", loggedIn && conn.status !== "unauthorized");
  $("account-login").classList.toggle("hidden", loggedIn && conn.status !== "unauthorized");
  $("logout").classList.toggle("hidden", !loggedIn);
  // nothing left to apply for once the lot has closed
  if (CLOSED.has(lotState()?.status)) $("apply-link")?.classList.add("hidden");
}

/** Fair warning (第一次 / 第二次 / 最后一次警告, cleared by the next bid), 暂停中, and the
 * auctioneer's announcement (as text, never markup). */
function renderLive(s) {
  const banner = $("live-banner");
  const open = s && s.status === "open";
  let state = open && s.paused_at ? "paused" : open && s.warned ? `warn-${s.warned}` : "";
  let text = state === "paused" ? t("paused_banner") : state ? warningText(s.warned) : "";
  const listed = state ? null : listingBanner(info, s?.status || info?.status, conn.now());
  if (listed) ({ state, text } = listed);  // 挂牌中 / 挂牌期满 / 协议成交 (lot-listing.js)
  banner.textContent = text;
  banner.className = `live-banner ${state}${state ? "" : " hidden"}`;
  banner.dataset.state = state;
  const ann = $("announcement");
  const note = (open || s?.status === "scheduled") && s.announcement ? s.announcement.text : "";
  ann.textContent = note;
  ann.classList.toggle("hidden", !note);
}

/** "300 s" → "5 分钟" / "5 min". */
function span(seconds) {
  const s = Number(seconds) || 0;
  if (s >= 60 && s % 60 === 0) return t("minutes_n", { n: s / 60 });
  return t("seconds_n", { n: s });
}

function fact(key, value, attrs = {}) {
  if (value === null || value === undefined || value === "") return null;
  return el("div", { class: "fact", "data-fact": key, ...attrs },
    el("dt", { text: t(key) }), el("dd", {}, value));
}

/** A sold lot's 合同登记 (issue 13): 待登记 / 已登记 + number / 未予登记 + reason. */
function registrationFact(reg) {
  if (!reg) return null;
  const zh = lang() === "zh";
  const words = { pending: zh ? "待登记" : "awaiting registration",
    registered: zh ? "已登记" : "registered", rejected: zh ? "未予登记" : "not registered",
    dead: zh ? "待登记" : "awaiting registration" };
  const shown = reg.shown || "pending";
  const detail = shown === "registered" ? reg.registration_no
    : shown === "rejected" ? reg.reason : "";
  return el("div", { class: "fact", "data-fact": "registration" },
    el("dt", { text: zh ? "合同登记" : "Contract registration" }),
    el("dd", {}, el("strong", { text: words[shown] || shown }),
      detail ? el("span", { class: shown === "registered" ? "num" : "", text: ` ${detail}` }) : ""));
}

/** 重新挂拍 (issue 15): the chain of relistings through this lot, oldest first, each with its
 * session, start price and how it ended; the others are links. */
function relistFact() {
  const chain = info?.relist_history || [];
  if (!chain.length) return null;
  const zh = lang() === "zh";
  const words = { passed: zh ? "流拍" : "passed", sold: zh ? "成交" : "sold",
    defaulted: zh ? "悔拍" : "buyer defaulted", scheduled: zh ? "待拍" : "scheduled",
    open: zh ? "竞价中" : "bidding", withdrawn: zh ? "撤拍" : "withdrawn" };
  const items = chain.map((c) => {
    const how = words[c.defaulted ? "defaulted" : c.status] || c.status;
    const text = `${c.session_name} · ${zh ? "起拍价" : "start"} ${yuan(c.start_price_fen)} · ${how}`;
    return el("li", {}, c.lot_id === info.id
      ? el("strong", { text: `${zh ? "本标的" : "This lot"}: ${text}` })
      : el("a", { href: `lot.html?id=${c.lot_id}`, text }));
  });
  return el("div", { class: "fact", "data-fact": "relist" },
    el("dt", { text: zh ? "重新挂拍" : "Relisting" }),
    el("dd", {}, el("ol", { class: "relist-chain" }, ...items)));
}

function bandTable() {
  const bands = session?.increments || [];
  if (!bands.length) return null;
  const table = el("table", { class: "bands small" },
    el("thead", {}, el("tr", {}, el("th", { text: t("band_from") }),
      el("th", { class: "r", text: t("increment") }))));
  const body = el("tbody");
  for (const b of bands) {
    body.append(el("tr", {}, el("td", { class: "num", text: t("band_from_value",
      { amount: yuan(b.from_fen) }) }), el("td", { class: "r num", text: yuan(b.inc_fen) })));
  }
  table.append(body);
  // redrawn on every event: it keeps whether the bidder opened it
  return el("details", { class: "band-table", open: bandsOpen,
    ontoggle: (e) => { bandsOpen = e.target.open; } },
  el("summary", { text: t("band_table") }), table);
}

/** Open the <details> a link points at (拍卖公告 / 竞买须知) before the browser scrolls to it. */
function docLink(id, key) {
  return el("a", { href: `#${id}`, onclick: () => { $(id).open = true; }, text: t(key) });
}

function renderFacts() {
  const box = $("facts");
  box.textContent = "";
  if (!info) return;
  const s = lotState() || {};
  const timed = (s.mode || session?.mode) === "timed";
  const deposit = info.deposit_fen > 0 ? yuan(info.deposit_fen) : t("deposit_none");
  const lstate = listingState(info, s.status || info.status);
  if (lstate && lstate !== "auction") {  // a listing (挂牌): no bidding, no 延时, no 加价幅度
    listingFacts(box, deposit);
    return;
  }
  let start = null;
  if (s.opened_at) start = dateTime(s.opened_at);
  else if (info.starts_at || session?.starts_at) {
    start = `${dateTime(info.starts_at || session.starts_at)} ${t("planned")}`;
  }
  let end;
  if (CLOSED.has(s.status) && (s.closed_at || info.result?.closed_at)) {
    end = dateTime(s.closed_at || info.result.closed_at);
  } else if (!timed) end = t("live_no_clock");
  else if (s.status === "open" && s.ends_at) end = dateTime(s.ends_at);
  else if (info.closes_at) end = `${dateTime(info.closes_at)} ${t("planned")}`;  // the schedule
  else end = t("ends_after_open", { d: span(info.duration_s) });
  let rule = timed && session?.extension_window_s
    ? t("extension_rule", { w: span(session.extension_window_s), e: span(session.extension_s) })
    : t(timed ? "extension_none" : "extension_live");
  if (timed && session?.extension_window_s) {  // the session's cap and hard end (issue 15)
    const zh = lang() === "zh";
    if (session.max_extensions != null) {
      rule += zh ? `; 最多延时 ${session.max_extensions} 次`
        : `; at most ${session.max_extensions} extension(s)`;
    }
    if (session.hard_end_at) {
      rule += zh ? `; 最晚 ${dateTime(session.hard_end_at)} 结束`
        : `; ends by ${dateTime(session.hard_end_at)} at the latest`;
    }
  }
  const rows = [
    fact("deposit", deposit),
    fact("reserve_label", t(info.has_reserve ? "reserve_yes" : "reserve_no")),
    info.appraisal_fen ? fact("appraisal", yuan(info.appraisal_fen)) : null,
    fact("mode", t(`mode_${timed ? "timed" : "live"}`)),
    fact("start_time", start),
    fact("end_time", end, timed && s.status === "open" ? { "data-ends-at": String(s.ends_at) } : {}),
    fact("extension", rule),
    timed ? fact("extended_times", t("times_n", { n: s.extensions || 0 })) : null,
    fact("increment_table", bandTable() || t("band_none", { inc: yuan(info.increment_fen) })),
    ...commonFacts(),
  ];
  for (const row of rows) if (row) box.append(row);
}

/** The facts every lot shows after its sale's own: 报名人数 … 合同登记, 重新挂拍. */
function commonFacts() {
  const phone = session?.contact_phone
    ? el("a", { href: `tel:${session.contact_phone.replace(/[^\d+]/g, "")}`,
      text: session.contact_phone }) : t("none");
  const docs = el("span", { class: "doc-links" }, docLink("doc-announcement", "announcement_doc"),
    " · ", docLink("doc-terms", "terms_doc"));
  return [
    fact("registered", String(info.registered ?? "—")),
    fact("viewers_label", feed.viewers === null ? "—" : String(feed.viewers)),
    fact("contact_phone", phone),
    fact("docs_title", docs),
    registrationFact(info.result?.registration),
    relistFact(),
  ];
}

/** A listing's facts while it is one (挂牌中, 协议成交, 挂牌期满): sold at its price by agreement
 * or not at all, so no auction's start, 延时 rule or 加价幅度 (an auction it became has them). */
function listingFacts(box, deposit) {
  const { listing } = info;
  const closed = info.result?.closed_at;
  const rows = [
    fact("deposit", deposit),
    fact("mode", t("lst_title")),
    fact("start_time", dateTime(listing.starts_at)),
    fact("end_time", dateTime(closed || listing.ends_at)),
    ...commonFacts(),
  ];
  for (const row of rows) if (row) box.append(row);
}

/** The lot's description: 成果类型 once (its IP type only when it says more). */
function renderDetails() {
  const box = $("details");
  box.textContent = "";
  if (!info) return;
  const kind = [info.result_type, info.ip_type].filter(Boolean)
    .filter((v, i, all) => all.indexOf(v) === i).join(" · ");
  const rows = [
    ["result_type", kind], ["field", info.technology_field],
    ["transaction_mode", info.transaction_mode], ["contract_type", info.contract_type],
    ["holder", info.holder_name], ["description", info.description],
  ];
  const table = el("table");
  for (const [k, v] of rows) {
    if (v) table.append(el("tr", {}, el("th", { text: t(k) }), el("td", { text: v })));
  }
  box.append(table);
}

function renderMedia() {
  const pics = $("pictures");
  const list = $("attachments");
  pics.textContent = "";
  list.textContent = "";
  const files = info?.attachments || [];
  for (const f of files) {
    const name = f.label || f.filename;
    if (String(f.content_type).startsWith("image/")) {
      pics.append(el("figure", {}, el("a", { href: f.url, target: "_blank", rel: "noopener" },
        el("img", { src: f.url, alt: name, loading: "lazy" })), el("figcaption", { text: name })));
    } else {
      const kb = Math.max(1, Math.round((f.size_bytes || 0) / 1024));
      list.append(el("li", {}, el("a", { href: f.url, download: f.filename, text: name }),
        el("span", { class: "muted small", text: ` (${f.filename}, ${kb} KB)` })));
    }
  }
  $("media-empty").classList.toggle("hidden", files.length > 0);
}

function renderDocs() {
  for (const [id, text] of [["announcement-text", session?.announcement],
    ["terms-text", session?.terms]]) {
    const box = $(id);
    box.textContent = text || t("not_published");
    box.classList.toggle("muted", !text);
  }
}

function renderClock() {
  const s = lotState();
  const cd = $("countdown");
  const endsAt = $("ends-at");
  $("server-time").textContent = conn.welcome ? clock(conn.now()) : "—";
  if (!s) return;
  const timed = s.mode === "timed";
  const listing = listingClock(info, s.status, conn.now());
  if (listing) {  // during a listing period: to its end, by server time
    $("clock-label").textContent = listing.label;
    cd.textContent = listing.text;
    cd.className = `countdown num${listing.urgent ? " urgent" : ""}`;
    cd.dataset.endsAt = String(listing.endsAt);
    endsAt.textContent = listing.ends;
  } else if (s.status !== "open") {
    const closedAt = s.closed_at || (info?.result?.closed_at ? Date.parse(info.result.closed_at) : 0);
    const over = CLOSED.has(s.status);
    $("clock-label").textContent = t(over && closedAt ? "closed_time" : "countdown");
    cd.textContent = over && closedAt ? dateTime(closedAt)
      : s.status === "scheduled" ? t("not_open_yet") : t("ended");
    cd.className = "countdown small-count num";
    endsAt.textContent = "";
  } else if (timed && s.ends_at) {
    const left = s.ends_at - (s.paused_at || conn.now()); // the clock stops while paused
    $("clock-label").textContent = t("countdown");
    cd.textContent = duration(left);
    cd.className = `countdown num${left < 60000 ? " urgent" : ""}`;
    cd.dataset.endsAt = String(s.ends_at);
    endsAt.textContent = `${t("ends_at")} ${dateTime(s.ends_at)}`
      + (s.extensions ? ` · ${t("extended_n", { n: s.extensions })}` : "");
  } else {
    $("clock-label").textContent = t("mode");
    cd.textContent = t("live_no_clock");
    cd.className = "countdown small-count";
    endsAt.textContent = "";
  }
  endsAt.classList.toggle("hidden", !endsAt.textContent);
}

function renderMissing() {
  document.body.classList.toggle("lot-missing", missing);
  $("missing").classList.toggle("hidden", !missing);
  $("lot-page").classList.toggle("hidden", missing);
  $("conn").classList.toggle("hidden", missing);
  if (missing) document.title = `${t("lot_missing")} · ${t("app")}`;
}

function renderPrice(s) {
  const price = $("price");
  let label = "current_price";
  let text = "—";
  if (s) {
    if (s.status === "sold") {
      // a listing sold by agreement (协议成交) had no hammer: its own English label
      label = listingState(info, s.status) === "agreement" ? "lst_deal_price" : "deal_price";
      text = yuan(s.high || info?.result?.amount_fen);
    } else if (s.status === "passed" || s.status === "withdrawn") {
      label = "outcome";
      text = t(s.status === "passed" ? "passed_text" : "withdrawn_text");
    } else if (s.format === "dutch" && s.status === "open") {
      text = yuan(dutchPrice(s, conn.now()).price);
    } else if (s.bids > 0) {
      text = yuan(s.high);
    } else {
      label = s.format === "listing" ? "lst_price" : "start_price";  // 挂牌价 during the listing
      text = yuan(s.start);
    }
  }
  $("price-label").textContent = t(label);
  $("price-label").dataset.label = label;
  price.textContent = text;
  price.dataset.fen = String(s?.high || 0);
  // while the link is down the price may be stale: greyed until the room is heard again
  price.classList.toggle("stale", conn.status !== "open" && Boolean(feed.state));
  $("price-card").classList.toggle("stale", conn.status !== "open" && Boolean(feed.state));
}

/** A refusal quotes the next bid of its time: it goes once the lot closes or that moves. */
function dropStaleFeedback(s) {
  if (!feedback || feedback.kind !== "bad") return;
  if (!s || CLOSED.has(s.status) || (feedback.next !== undefined && nextBid(s) !== feedback.next)) {
    feedback = null;
  }
}

function render() {
  renderMissing();
  if (missing) return;
  const s = lotState();
  paintConn($("conn"), conn.status);
  const n = $("notice");
  if (notice) {
    n.textContent = t(notice.key, notice.vars || {});
    n.className = `notice ${notice.kind}`;
    n.dataset.key = notice.key;
  } else {
    n.className = "notice hidden";
    n.dataset.key = "";
  }
  if (info) {
    $("title").textContent = `${info.ordinal ? info.ordinal + ". " : ""}${info.title}`;
    document.title = `${info.title} · ${t("app")}`;
  }
  $("session-name").textContent = session ? session.name : "";
  const mode = s?.mode || session?.mode;
  const status = s?.status || info?.status;
  const lstate = listingState(info, status);
  // a listing is 挂牌, not 限时竞价, until it becomes an auction
  $("mode").textContent = lstate && lstate !== "auction" ? t("lst_title")
    : mode ? t(`mode_${mode}`) : "";
  // a listing's badge: 挂牌中 during the period, 协议成交 (not a bare 成交) after an agreement
  $("status").textContent = lstate === "listing" ? t("lst_status")
    : lstate === "agreement" ? t("lst_status_agreement") : status ? statusText(status) : "";
  // the room ended the listing after the lot was read: read its outcome (card, banner)
  if (info?.listing?.state === "listing" && status && status !== "scheduled") refetchListing();
  $("status").className = `badge st-${status || ""}`;
  $("status").dataset.status = status || "";
  const viewers = feed.viewers;
  $("viewers").textContent = viewers === null ? "" : t("viewers_n", { n: viewers });
  $("viewers").classList.toggle("hidden", viewers === null);
  renderPrice(s);
  const closed = s && CLOSED.has(s.status);
  if (s) {
    $("leader-label").textContent = t(s.status === "sold" ? "winner" : "leader");
    $("leader").textContent = s.paddle && s.status !== "passed" ? String(s.paddle) : "—";
    $("bid-count").textContent = String(s.bids || 0);
    $("start").textContent = yuan(s.start);
    $("inc").textContent = yuan(s.inc);
    $("next").textContent = closed ? "—" : yuan(nextBid(s));
  }
  $("next-box").classList.toggle("hidden", Boolean(closed)
    || !["english", "rounds"].includes(formatOf(s, info)));
  $("inc-box").classList.toggle("hidden", Boolean(lstate) && lstate !== "auction");  // 挂牌
  dropStaleFeedback(s);
  renderStanding(s);
  renderLive(s);
  renderQuick(s);
  renderLadder(s);
  renderFormat({ s, info, feed, conn, may: mayBid() && conn.status === "open",
    paddle: myPaddle() });
  renderReg();
  renderClock();
  renderFacts();
  renderListing(info);
  const fb = $("feedback");
  fb.textContent = feedback ? feedback.text : "";
  fb.className = `feedback ${feedback ? feedback.kind : ""}`;
  fb.dataset.kind = feedback ? feedback.kind : "";
}

function askLargeJump(amount, next, steps) {
  return new Promise((resolve) => {
    const dlg = $("confirm");
    $("confirm-text").textContent = t("confirm_text", {
      amount: yuan(amount), next: yuan(next), steps,
    });
    const done = (ok) => {
      $("confirm-ok").onclick = null;
      $("confirm-cancel").onclick = null;
      dlg.close();
      resolve(ok);
    };
    $("confirm-ok").onclick = () => done(true);
    $("confirm-cancel").onclick = () => done(false);
    dlg.oncancel = () => resolve(false);
    dlg.showModal();
  });
}

async function placeBid(amount, fromBox = false) {
  const s = feed.state;
  if (!s || !Number.isInteger(amount) || amount <= 0) {
    feedback = { text: t("err_amount"), kind: "bad" };
    render();
    return;
  }
  const next = nextBid(s);
  if (s.format !== "sealed" && s.inc > 0 && amount - next >= LARGE_JUMP_STEPS * s.inc) {
    const steps = Math.floor((amount - next) / s.inc);
    if (!(await askLargeJump(amount, next, steps))) return;
  }
  busy = true;
  const key = newKey("b");
  pendingBid = { amount, key };
  feedback = { text: t("sent_amount", { amount: yuan(amount) }), kind: "pending" };
  render();
  const answer = await conn.bid(lotId, amount, key);
  busy = false;
  pendingBid = null;
  const late = answer.late ? ` ${t("after_reconnect")}` : "";
  if (answer.t === "ack" && s.format === "sealed") {
    quoteAcked(feed, amount);
    feedback = { text: `${t("fmt_quote_ok", { amount: yuan(amount) })}${late}`, kind: "good" };
    if (fromBox) $("amount").value = "";
  } else if (answer.t === "ack") {
    feedback = { text: `${t("accepted")}: ${yuan(amount)}${late}`, kind: "good" };
    if (fromBox) {
      $("amount").value = "";
      renderPreview();
    }
  } else if (answer.code === "timeout") {
    // given up after a long cut (not sent again, so it cannot land late): its fate is unknown
    // here, and the page says so instead of calling it refused; the bid record is the truth
    feedback = { text: t("bid_unknown", { amount: yuan(amount) }), kind: "pending" };
  } else {
    let message = nackText(answer);
    if (answer.minimum) message += ` (${t("next_bid")} ${yuan(answer.minimum)})`;
    feedback = { text: `${t("rejected", { message })}${late}`, kind: "bad",
      next: nextBid(feed.state) };
  }
  render();
}

/** "= 210,000.00 元" under the box as the bidder types (21万, 210,000, 210000.00 …). */
function renderPreview() {
  const box = $("amount-preview");
  const raw = $("amount").value.trim();
  if (!raw) {
    box.textContent = "";
    box.className = "small muted preview";
    return;
  }
  const fen = parseYuan(raw);
  box.textContent = fen ? `= ${yuan(fen)}` : t("err_amount");
  box.className = `small preview ${fen ? "ok" : "bad"}`;
}

$("amount").addEventListener("input", renderPreview);

$("custom").addEventListener("submit", (e) => {
  e.preventDefault();
  const fen = parseYuan($("amount").value);
  if (!fen) {
    feedback = { text: t("err_amount"), kind: "bad", next: nextBid(feed.state) };
    render();
    return;
  }
  placeBid(fen, true);
});

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = $("token").value.trim();
  if (!value) return;
  token = value;
  storeToken("bidder", token);
  $("token").value = "";
  notice = null;
  conn.setToken(token);
});

/** The bid credential from the bidder's own cookie login (docs/http-api.md "Cookie login"),
 * kept across tabs: a logged-in bidder whose registration in this lot's session has its deposit
 * confirmed takes it with POST /registrations/{id}/token (X-CSRF-Token from the readable
 * cookie); anyone else is offered 报名 (apply.html). True when a credential was taken. */
async function takeCredential() {
  const sess = info?.session_id;
  if (!sess) return false;
  let link = $("apply-link");
  if (!link) {
    link = el("a", { id: "apply-link", class: "btn primary mt-8", "data-i18n": "apply",
      href: `apply.html?session=${sess}`, text: t("apply") });
    $("reg").after(link);
  }
  link.classList.toggle("hidden", Boolean(token));
  const csrf = /(?:^|;\s*)auction_csrf=([^;]*)/.exec(document.cookie);
  if (token || !csrf) return false;
  try {
    const mine = await api("/registrations/mine");
    const reg = mine.registrations.find((r) => r.session_id === sess && r.status === "deposit_paid");
    if (!reg) return false;
    const credential = await api(`/registrations/${reg.id}/token`, {
      method: "POST", headers: { "X-CSRF-Token": decodeURIComponent(csrf[1]) },
    });
    token = credential.token;
    storeToken("bidder", token);
    link.classList.add("hidden");
    notice = null;
    conn.setToken(token);
    return true;
  } catch {
    return false; // not a bidder's own login (or gone): the page stays a viewer's
  }
}

$("account-login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!username || !password) return;
  try {
    await api("/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password, cookie: true }),
    });
  } catch {
    showNotice("err_login", "bad");
    return;
  }
  $("password").value = "";
  if (!(await takeCredential())) showNotice("err_no_registration", "bad");
});

$("logout").addEventListener("click", () => {
  token = null;
  storeToken("bidder", null);
  conn.setToken(null);
});

/** After a close the settled result (final price and paddle, or the pass reason) is written
 * within seconds: fetch the lot again until it is there. */
let refetching = false;
let listingRead = false;

/** Read the lot again once after its listing ended (once: the outcome is recorded by then). */
async function refetchListing() {
  if (listingRead) return;
  listingRead = true;
  try {
    info = await api(`/lots/${lotId}`);
  } catch {
    return;
  }
  render();
}

async function refetchResult() {
  if (refetching || missing) return;
  refetching = true;
  for (let i = 0; i < 10 && !info?.result; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    try {
      info = await api(`/lots/${lotId}`);
    } catch {
      /* the next try, or the socket's own state, will do */
    }
  }
  refetching = false;
  render();
}

conn.on((e) => {
  if (missing) return;
  if (e.type === "unauthorized") {
    token = null;
    storeToken("bidder", null);
    showNotice("conn_unauthorized", "bad");
    conn.setToken(null); // carry on as a viewer
    return;
  }
  if (e.type === "notice" && e.code === "state_replaced") {
    showNotice("state_replaced");
    return;
  }
  // the socket's unknown_lot only says there is no room (a room being rebuilt, say): whether
  // the lot exists is the HTTP API's answer (404 → 标的不存在), so it is not taken as one
  const ev = e.type === "lot" && e.lot === lotId ? e.ev : null;
  if (ev?.kind === "extended") {
    notice = { key: "extended", kind: "", vars: { time: clock(ev.ends_at) } };
  } else if (ev?.kind === "bid_retracted") {
    // the retracted bidder is told in so many words; everyone else why the price went back
    const mine = myPaddle() !== null && ev.paddle === myPaddle();
    notice = { key: mine ? "your_bid_retracted" : "bid_retracted_note", kind: mine ? "bad" : "",
      vars: { paddle: ev.paddle, amount: yuan(ev.amount) } };
  } else if (ev?.kind === "reopened") {
    notice = { key: "reopened_note", kind: "" };
  } else if (ev?.kind === "increment_changed"
    && !["your_bid_retracted", "bid_retracted_note", "reopened_note"].includes(notice?.key)) {
    notice = { key: "inc_changed", kind: "", vars: { inc: yuan(ev.inc) } }; // next bid: high + inc
  } else if (ev && ["opened", "sold", "passed", "withdrawn"].includes(ev.kind)
    && ["reopened_note", "bid_retracted_note", "inc_changed", "your_bid_retracted", "extended"]
      .includes(notice?.key)) {
    notice = null; // the room moved on: older news gives way
  }
  if (ev && CLOSED.has(ev.kind) && info && !info.result) refetchResult();
  if (e.type === "lot" && e.reason === "snapshot" && CLOSED.has(feed.state?.status)
    && info && !info.result) refetchResult();
  if (e.type === "link_lost" || (e.type === "status" && e.status === "reconnecting")) {
    // said at once, and only what is known: a bid still unanswered is neither won nor lost
    notice = pendingBid
      ? { key: "link_lost_pending", kind: "bad", vars: { amount: yuan(pendingBid.amount) } }
      : { key: "link_lost", kind: "bad" };
    if (pendingBid) {
      feedback = { text: t("pending_unknown", { amount: yuan(pendingBid.amount) }),
        kind: "pending" };
    }
  }
  if (e.type === "resumed" && conn.reconnects > 0 && e.lot === lotId) {
    notice = { key: "resumed_ok", kind: "good", vars: { n: e.count ?? 0 } };
  }
  if (e.type === "status" && e.status === "open"
    && ["link_lost", "link_lost_pending"].includes(notice?.key)) {
    notice = { key: "reconnected", kind: "good" };
  }
  render();
});

// a bid answered after a reconnect says so (its key was sent again, the server answered it)
const bidOnce = conn.bid.bind(conn);
conn.bid = (lot, amount, key) => {
  const before = conn.reconnects;
  return bidOnce(lot, amount, key).then((answer) => ({
    ...answer, late: conn.reconnects !== before,
  }));
};

setupLang($("lang"), () => {
  renderDetails();
  renderMedia();
  renderDocs();
  renderPreview();
  render();
});
setInterval(renderClock, 250);
setupFormat({ conn, feed, lotId, after: render });
setInterval(() => { // a Dutch lot's price falls by the clock
  const s = feed.state;
  if (s?.format === "dutch" && s.status === "open") render();
}, 500);

async function load() {
  if (missing) {
    render();
    return;
  }
  try {
    // the server may be restarting: keep trying (the socket reconnects by itself)
    info = await retrying(() => api(`/lots/${lotId}`), (err, s) => {
      $("title").textContent = t("retrying", { message: err.message, s });
    });
    session = await api(`/sessions/${info.session_id}`).catch(() => null);
  } catch (err) {
    if (err.status === 404) {
      missing = true;
      conn.close();
    } else {
      $("title").textContent = err.message;
    }
  }
  renderDetails();
  renderMedia();
  renderDocs();
  render();
  if (info && CLOSED.has(lotState()?.status) && !info.result) refetchResult();
  if (info) takeCredential().then(render); // render: no 报名 link for a closed lot
}

load();
if (!missing) conn.connect();
