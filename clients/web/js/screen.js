// The venue screen: screen.html?session=N. Public (no token); follows the lot that is open, or
// else the one that closed last; big type, readable from across a room. ?lang=en for English.
import {
  api, applyI18n, clock, duration, lang, paintConn, param, passReason, retrying, t, wan,
  warningText, yuan,
} from "./common.js";
import { formatSummary } from "./lot-formats.js";
import { AuctionConnection } from "./protocol.js";

const $ = (id) => document.getElementById(id);
const sessionId = Number(param("session"));
if (param("lang")) localStorage.setItem("auction.lang", param("lang") === "en" ? "en" : "zh");
const conn = new AuctionConnection();
let session = null;
let lots = [];
window.auctionDebug = { conn, sessionId };

function current() {
  let best = null;
  let bestAt = -1;
  for (const lot of lots) {
    const s = conn.lot(lot.id)?.state;
    if (!s) continue;
    if (s.status === "open") return { lot, s };
    const at = s.closed_at || 0;
    const closed = s.status === "sold" || s.status === "passed" || s.status === "withdrawn";
    if (at > bestAt && closed) {
      best = { lot, s };
      bestAt = at;
    }
  }
  if (best) return best;
  const first = lots.find((l) => conn.lot(l.id)?.state?.status === "scheduled");
  return first ? { lot: first, s: conn.lot(first.id).state } : null;
}

function render() {
  paintConn($("conn"), conn.status);
  $("session-name").textContent = session ? session.name : "";
  const cur = current();
  if (!cur) return;
  const { lot, s } = cur;
  $("lot-no").textContent = `${t("lot")} ${lot.ordinal} / ${lots.length}`;
  $("title").textContent = lot.title;
  const showHigh = s.bids > 0 || s.status === "sold";
  $("price-label").textContent = showHigh ? t("current_price") : t("start_price");
  $("price").textContent = wan(showHigh ? s.high : s.start);
  $("price").title = yuan(showHigh ? s.high : s.start);
  $("paddle").textContent = s.paddle ? String(s.paddle) : "—";
  const state = $("state");
  state.dataset.status = s.status;
  state.className = `scr-status ${s.status}`;
  if (s.status === "sold") state.textContent = lang() === "en" ? "成交 SOLD" : "成交";
  else if (s.status === "passed") state.textContent = `${t("st_passed")} ${passReason(s.reason)}`;
  else if (s.status === "withdrawn") state.textContent = `${t("withdrawn_text")} ${s.reason || ""}`;
  else state.textContent = statusLine(s);
  $("start").textContent = wan(s.start);
  $("inc").textContent = wan(s.inc);
  $("bids").textContent = String(s.bids || 0);
  $("scr-format").textContent = formatSummary(s, conn.now(), null, wan);
  const viewers = conn.lot(lot.id)?.viewers ?? null;
  $("viewers").textContent = viewers === null ? "" : String(viewers);
  $("scr-viewers").classList.toggle("hidden", viewers === null);
  const open = s.status === "open";
  // a reopened lot says so until its next bid (or a warning, a pause)
  const reopened = open && s.reopened_at && (s.high_seq || 0) <= (s.reopened_seq || 0);
  const live = open && s.paused_at ? "paused" : open && s.warned ? `warn-${s.warned}`
    : reopened ? "reopened" : "";
  const banner = $("scr-banner");
  banner.textContent = live === "paused" ? t("paused_banner") : live === "reopened"
    ? t("reopened_banner") : live ? warningText(s.warned) : "";
  banner.className = `scr-banner ${live}${live ? "" : " hidden"}`;
  banner.dataset.state = live;
  const note = (open || s?.status === "scheduled") && s.announcement ? s.announcement.text : "";
  $("scr-announce").textContent = note; // text only, never markup
  $("scr-announce").classList.toggle("hidden", !note);
  renderClock();
}

function statusLine(s) {
  if (s.status === "open" && ["sealed", "dutch"].includes(s.format)) return t("st_open");
  if (s.status === "open") return `${t("st_open")} · ${t("next_bid")} ${wan(s.bids ? s.high + s.inc : s.start)}`;
  return t(`st_${s.status}`);
}

function renderClock() {
  $("clock").textContent = conn.welcome ? clock(conn.now()) : "";
  const cur = current();
  if (cur) $("scr-format").textContent = formatSummary(cur.s, conn.now(), null, wan);
  const box = $("countdown");
  if (cur && cur.s.status === "open" && cur.s.mode === "timed" && cur.s.ends_at) {
    const left = cur.s.ends_at - (cur.s.paused_at || conn.now()); // stopped while paused
    box.textContent = duration(left);
    box.className = `scr-count${left < 60000 ? " urgent" : ""}`;
  } else {
    box.textContent = "";
  }
}

conn.on(() => render());
setInterval(renderClock, 250);
applyI18n();

async function load() {
  if (!sessionId) {
    $("title").textContent = "screen.html?session=N";
    return;
  }
  try {
    await retrying(async () => { // the server may be restarting: keep the screen alive
      session = await api(`/sessions/${sessionId}`);
      lots = (await api(`/sessions/${sessionId}/lots`)).lots;
    }, (err, s) => {
      $("title").textContent = t("retrying", { message: err.message, s });
    });
  } catch (err) {
    $("title").textContent = err.message;
    return;
  }
  for (const lot of lots.slice(0, 64)) conn.watch(lot.id);
  conn.connect();
  render();
}
load();
