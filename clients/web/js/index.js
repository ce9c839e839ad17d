// The catalogue on GET /api/v1/listing: lots across sessions and markets with the real price
// under its label (起拍价 / 当前价 / 成交价 / 流拍 / 撤拍), market names, timed lots' end times;
// filters by market, status, season and technology field, and a search box. Lots are grouped by
// session (newest activity first, as the listing orders them); cards on every width.
//
// A running session shows its open lot as the room has it in Redis (``lot.live`` from
// GET /sessions/{id}/lots): price, leading paddle, bids; a live lot with no event for a while —
// typically a session interrupted by a server restart — says so: it can be resumed from the
// console, because its room is still open.
import {
  api, clock, dateTime, el, idleMs, lang, param, retrying, setupLang, statusText, t, yuan,
} from "./common.js";

const box = document.getElementById("sessions");
const form = document.getElementById("filters");
const PAGE = 60;
// filters kept in the address; ``session`` (one session's lots) is set by links, not a control
const FIELDS = ["market", "status", "season", "field", "q", "session"];
let sessions = new Map(); // id → session (status, market code, lot count)
let markets = []; // {code, name}
let fields = new Set(); // technology fields seen
let lots = []; // listing entries loaded so far
let total = 0;
let page = 1;
let roomsOk = true;
const liveOf = new Map(); // session id → { lots, serverTime, fetchedAt } for running sessions
const runningLots = new Map(); // session id → its listing entries (the filters applied)
const RUNNING_SHOWN = 6; // running sessions always on top, newest first, whatever the page

function liveStrip(session, entry) {
  const { lots: roomLots, serverTime, fetchedAt } = entry;
  const open = roomLots.filter((l) => l.live && l.live.status === "open");
  if (!open.length) return null;
  const now = serverTime ? serverTime + (Date.now() - fetchedAt) : 0;
  const strip = el("div", { class: "live-strip small", role: "status",
    "data-live-session": String(session.id) });
  for (const lot of open) {
    const live = lot.live;
    const price = live.bids > 0
      ? `${t("current_price")} ${yuan(live.high)} · ${t("leader")} ${live.paddle}`
      : `${t("start_price")} ${yuan(live.start)}`;
    const line = el("div", { "data-live-lot": String(lot.id) },
      el("strong", { text: `● ${t("now_on")} ` }),
      el("a", { href: `lot.html?id=${lot.id}`, text: `${lot.ordinal}. ${lot.title}` }),
      ` · ${price} · ${t("bids")} ${live.bids}`);
    if (live.mode === "timed" && live.ends_at) {
      line.append(` · ${t("ends_at")} ${clock(live.ends_at)}`);
    }
    const idle = now && live.last_event_at ? now - live.last_event_at : 0;
    if (live.mode === "live" && idle >= idleMs()) {
      line.append(el("div", { class: "idle", "data-idle": "true",
        text: t("idle_for", { min: Math.max(1, Math.floor(idle / 60000)) }) }));
    }
    strip.append(line);
  }
  return strip;
}

/** The price a person should see, under its label; 流拍 / 撤拍 with the reason instead. */
function priceLine(lot) {
  const label = { 起拍价: "start_price", 当前价: "current_price", 成交价: "deal_price",
    流拍: "st_passed", 撤拍: "st_withdrawn" }[lot.price_label] || "price";
  let value;
  if (lot.status === "passed" || lot.status === "withdrawn") {
    value = lot.pass_reason_text || statusText(lot.status);
  } else if (lot.price_fen === null || lot.price_fen === undefined) {
    value = t("price_unknown");
  } else {
    value = yuan(lot.price_fen);
  }
  return el("div", { class: "price-line", "data-price-label": lot.price_label || "" },
    el("span", { class: "k", text: t(label) }), el("span", { class: "v num", text: value }));
}

function lotCard(lot) {
  const closed = ["sold", "passed", "withdrawn"].includes(lot.status);
  const kind = [lot.result_type, lot.ip_type].filter(Boolean)
    .filter((v, i, all) => all.indexOf(v) === i);
  const card = el("article", { class: `lot-card${closed ? " closed" : ""}`,
    "data-lot": String(lot.id), "data-status": lot.status },
  el("div", { class: "row spread small" },
    el("span", { class: "muted num", text: `${t("lot")} ${lot.ordinal}` }),
    el("span", { class: `badge st-${lot.status}`, text: statusText(lot.status) })),
  el("a", { class: "title", href: `lot.html?id=${lot.id}`, text: lot.title }),
  el("div", { class: "meta", text: [...kind, lot.technology_field, lot.transaction_mode]
    .filter(Boolean).join(" · ") }),
  el("div", { class: "meta", text: `${lot.market?.name || ""}${lot.holder_name
    ? " · " + t("holder") + " " + lot.holder_name : ""}` }),
  priceLine(lot));
  const extra = [];
  if (lot.status === "sold" && lot.final_paddle) extra.push(`${t("winner")} ${lot.final_paddle}`);
  if (lot.bids !== null && lot.bids !== undefined && lot.status !== "scheduled") {
    extra.push(`${t("bids")} ${lot.bids}`);
  }
  if (lot.ends_at) {
    extra.push(`${closed ? t("closed_time") : t("ends_at")} ${dateTime(lot.ends_at)}`);
  }
  if (extra.length) card.append(el("div", { class: "when muted", text: extra.join(" · ") }));
  if (lot.listing) card.append(listingLine(lot.listing));
  return card;
}

/** A listing (挂牌): its period and how many buyers have qualified (never who). */
function listingLine(listing) {
  const zh = lang() === "zh";
  const period = `${dateTime(listing.starts_at)} – ${dateTime(listing.ends_at)}`;
  const words = zh
    ? { listing: "挂牌中", expired: "挂牌期满", agreement: "协议成交", auction: "已转竞价" }
    : { listing: "Listed", expired: "Expired", agreement: "By agreement", auction: "Auction" };
  const text = zh
    ? `挂牌 ${period} · 意向受让方 ${listing.buyers} 家 · ${words[listing.state]}`
    : `Listing ${period} · ${listing.buyers} qualified buyer(s) · ${words[listing.state]}`;
  return el("div", { class: "when listing-line", "data-listing": listing.state, text });
}

function sessionCard(sid, entries) {
  const first = entries[0].session;
  const s = sessions.get(sid) || {};
  const status = s.status || "";
  const card = el("section", { class: "card", "data-session": String(sid),
    "aria-label": first.name },
  el("div", { class: "row small muted" },
    el("span", { text: dateTime(first.starts_at) }),
    status ? el("span", { class: `badge ss-${status}`, "data-status": status,
      text: t(`ss_${status}`) }) : null,
    el("span", { class: "badge", text: t(`mode_${first.mode}`) }),
    el("span", { text: entries[0].market?.name || "" }),
    el("span", { text: t("lots_of", { n: s.lot_count ?? entries.length }) })),
  el("h2", { text: first.name }));
  const live = liveOf.get(sid);
  const strip = status === "running" && live ? liveStrip(s, live) : null;
  if (strip) card.append(strip);
  card.append(el("div", { class: "row small" },
    // 报名 (apply.html) while the session is not over: the bidder's own pages, issue 11
    status !== "finished" ? el("a", { class: "btn primary", href: `apply.html?session=${sid}`,
      text: t("apply") }) : null,
    el("a", { href: `screen.html?session=${sid}`, text: t("screen") }),
    el("a", { href: `results.html?session=${sid}`, text: t("results") })));
  // the auctioneer's console is reached from the back office (admin/session.html), by those
  // who may run the session: the public catalogue does not advertise it (issue 12)
  const grid = el("div", { class: "lot-cards" });
  for (const lot of [...entries].sort((a, b) => a.ordinal - b.ordinal)) grid.append(lotCard(lot));
  card.append(grid);
  return card;
}

function fillSelect(id, options, current) {
  const select = document.getElementById(id);
  select.textContent = "";
  select.append(el("option", { value: "", text: t("all") }));
  for (const [value, label] of options) {
    select.append(el("option", { value, text: label, selected: value === current }));
  }
  select.value = current || "";
}

function renderFilters() {
  const q = currentFilters();
  fillSelect("f-market", markets.map((m) => [m.code, m.name]), q.market);
  fillSelect("f-status", ["open", "scheduled", "sold", "passed", "withdrawn"]
    .map((s) => [s, statusText(s)]), q.status);
  fillSelect("f-season", ["spring", "autumn", "special"].map((s) => [s, t(`season_${s}`)]),
    q.season);
  fillSelect("f-field", [...fields].sort().map((f) => [f, f]), q.field);
  // the address's search, if any; else what the person may already have typed while the page
  // was loading stays (setting "" here wiped it, and 搜索 then searched for nothing)
  if (q.q) document.getElementById("f-q").value = q.q;
}

function render() {
  box.textContent = "";
  const count = document.getElementById("count");
  count.textContent = t("n_found", { n: total });
  document.getElementById("rooms-note").classList.toggle("hidden", roomsOk);
  // running sessions first (their rooms are what people come for), then the listing's order
  const groups = new Map();
  const seen = new Set();
  const add = (lot) => {
    if (seen.has(lot.id)) return;
    seen.add(lot.id);
    if (!groups.has(lot.session_id)) groups.set(lot.session_id, []);
    groups.get(lot.session_id).push(lot);
  };
  for (const entries of runningLots.values()) entries.forEach(add);
  lots.forEach(add);
  if (!groups.size) box.append(el("p", { class: "muted", text: t("none") }));
  for (const [sid, entries] of groups) box.append(sessionCard(sid, entries));
  document.getElementById("more").classList.toggle("hidden", lots.length >= total);
}

/** The filters as the address has them (so a filtered catalogue can be linked and reloaded). */
function currentFilters() {
  const out = {};
  for (const name of FIELDS) {
    const v = param(name);
    if (v) out[name] = v;
  }
  return out;
}

function query(extra = {}) {
  const p = new URLSearchParams({ ...currentFilters(), limit: String(PAGE), ...extra });
  return `/listing?${p}`;
}

let generation = 0; // a newer search or filter wins over an older answer still on its way

async function loadListing(next = false, gen = generation) {
  const want = next ? page + 1 : 1;
  const answer = await api(query({ page: String(want) }));
  // the fields on offer are the catalogue's, whatever the filters: kept from any answer
  for (const f of answer.fields || []) fields.add(f);
  for (const lot of answer.lots) if (lot.technology_field) fields.add(lot.technology_field);
  if (gen !== generation) return;
  page = want;
  lots = next ? lots.concat(answer.lots) : answer.lots;
  total = answer.total;
  roomsOk = answer.rooms !== "unavailable";
}

/** The newest running sessions: their lots (with the filters) and their rooms' live state. */
async function loadRunning(gen = generation) {
  const running = [...sessions.values()].filter((s) => s.status === "running")
    .sort((a, b) => b.id - a.id).slice(0, RUNNING_SHOWN);
  const found = await Promise.all(running.map(async (s) => {
    const [mine, rooms] = await Promise.all([
      api(query({ session: String(s.id), page: "1", limit: "100" })),
      api(`/sessions/${s.id}/lots`),
    ]);
    return [s.id, mine.lots, { lots: rooms.lots, serverTime: rooms.server_time || 0,
      fetchedAt: Date.now() }];
  }));
  if (gen !== generation) return;
  runningLots.clear();
  for (const [id, mine, live] of found) {
    if (mine.length) runningLots.set(id, mine);
    liveOf.set(id, live);
  }
}

/** Everything again for the filters of the address; an older answer arriving late is dropped. */
function refresh() {
  generation += 1;
  const gen = generation;
  return Promise.all([loadListing(false, gen), loadRunning(gen)]).then(() => {
    if (gen === generation) render();
  });
}

async function load() {
  const [sessionList, marketList] = await Promise.all([api("/sessions"), api("/markets")]);
  sessions = new Map(sessionList.sessions.map((s) => [s.id, s]));
  markets = marketList.markets.map((m) => ({ code: m.code, name: m.name }));
  generation += 1;
  await Promise.all([loadListing(false, generation), loadRunning(generation)]);
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const p = new URLSearchParams();
  for (const name of FIELDS) {
    const control = form.elements[name];
    if (!control) continue; // ``session``: only a link sets it; a new search leaves it
    const v = control.value.trim();
    if (v) p.set(name, v);
  }
  const qs = p.toString();
  history.replaceState(null, "", location.pathname + (qs ? `?${qs}` : ""));
  refresh().catch((err) => {
    box.textContent = err.message;
  });
});
for (const name of ["market", "status", "season", "field"]) {
  form.elements[name].addEventListener("change", () => form.requestSubmit());
}
document.getElementById("clear").addEventListener("click", () => {
  form.reset();
  for (const s of form.querySelectorAll("select")) s.value = "";
  form.requestSubmit();
});
document.getElementById("more").addEventListener("click", () => {
  loadListing(true, generation).then(render, (err) => {
    box.textContent = err.message;
  });
});

setupLang(document.getElementById("lang"), () => {
  renderFilters();
  render();
});
retrying(load, (err, s) => {
  box.textContent = t("retrying", { message: err.message, s });
}).then(() => {
  renderFilters();
  render();
}, (err) => {
  box.textContent = err.message;
});
