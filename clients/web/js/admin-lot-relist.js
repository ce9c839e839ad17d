// 重新挂拍 on a lot's admin page (issue 15; docs/http-api.md "Relisting a lot"): a passed (流拍)
// or defaulted (悔拍) lot is relisted into a later, not yet started session of its market (or
// one below: the server decides, 409 wrong_market) at a start price of at least 80 % of its own
// (checked here for the message, decided by the server: 409 relist_discount_too_large). The
// links to the lot it relists and the lot relisting it are shown too. A listing (挂牌) is
// relisted as a listing with a new period (挂牌期, working days, 20 by default: its old end has
// passed).
import { el, parseYuan, yuan } from "./common.js";
import { clearErrors, fieldError } from "./account.js";
import { $, a, call, errText, fenToInput, post, say } from "./admin.js";

let lot = null;
let sessions = [];

/** 80 % of the start, rounded up to the fen (auction/domain/schedule.py relist_floor). */
function floor(start) {
  return Math.ceil((start * 80) / 100);
}

function link(id, key) {
  return el("p", {}, `${a(key)} `, el("a", { href: `lot.html?id=${id}`, text: `#${id}` }),
    " · ", el("a", { href: `../lot.html?id=${id}`, text: a("relist_public") }));
}

export function paintRelist() {
  if (!lot) return;
  const links = [];
  if (lot.relisted_from) links.push(link(lot.relisted_from, "relisted_from"));
  if (lot.relisted_to) links.push(link(lot.relisted_to, "relisted_to"));
  $("relist-links").replaceChildren(...links);
  const defaulted = lot.status === "sold";
  $("relist-why").textContent = lot.relistable
    ? a(defaulted ? "relist_why_defaulted" : "relist_why_passed") : "";
  $("r-start-hint").textContent = a("relist_floor", { amount: yuan(floor(lot.start_price_fen)) });
  $("relist").classList.toggle("hidden", !lot.relistable && !links.length);
  $("r-form").classList.toggle("hidden", !lot.relistable);
}

function chosen() {
  return sessions.find((s) => String(s.id) === $("r-session").value) || null;
}

function paintSessions() {
  if (!sessions.length) {
    $("r-session").replaceChildren(el("option", { value: "", text: a("relist_no_session") }));
  } else {
    $("r-session").replaceChildren(...sessions.map((s) => el("option", { value: String(s.id),
      text: `${s.name} (${s.starts_at.slice(0, 16).replace("T", " ")})` })));
  }
  $("r-duration-field").classList.toggle("hidden", chosen()?.mode !== "timed");
  $("r-listing-field").classList.toggle("hidden", lot?.format !== "listing");
}

/** Load the section for ``current`` (the lot as GET /lots/{id} answers it). */
export async function loadRelist(current) {
  lot = current;
  if (lot.relistable) {
    const own = await call(`/sessions/${lot.session_id}`);
    // the lot's own market's sessions (the API also takes a market below it: by the API)
    const all = (await call(`/sessions?market=${encodeURIComponent(own.market_code)}`)).sessions
      || [];
    sessions = all.filter((s) => s.id !== own.id && s.status === "scheduled"
      && new Date(s.starts_at) > new Date(own.starts_at));
    $("r-start").value = fenToInput(floor(lot.start_price_fen));
    if (lot.duration_s) $("r-duration").value = String(Math.ceil(lot.duration_s / 60));
    paintSessions();
  }
  paintRelist();
}

$("r-session").addEventListener("change", paintSessions);

$("r-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors($("r-form"));
  say($("r-msg"), "");
  const target = chosen();
  const start = parseYuan($("r-start").value);
  let bad = false;
  if (!target) { fieldError("r-session", a("relist_no_session")); bad = true; }
  if (start === null || start <= 0) { fieldError("r-start", a("f_amount")); bad = true; }
  const body = { session_id: target?.id, start_price_fen: start };
  if (target?.mode === "timed") {
    const minutes = $("r-duration").value.trim();
    if (!/^[1-9]\d*$/.test(minutes)) { fieldError("r-duration", a("f_int")); bad = true; }
    body.duration_s = Number(minutes) * 60;
  }
  if (lot.format === "listing") {  // a new period: the old one is over
    const days = $("r-listing-days").value.trim();
    if (!/^[1-9]\d*$/.test(days) || Number(days) > 250) {
      fieldError("r-listing-days", a("f_int")); bad = true;
    }
    body.listing_days = Number(days);
  }
  if (bad) { say($("r-msg"), () => a("err_fix"), "bad"); return; }
  try {
    const made = await post(`/lots/${lot.id}/relist`, body);
    lot = { ...lot, relistable: false, relisted_to: made.id };
    paintRelist();
    $("relist-links").prepend(el("p", { class: "form-msg good", role: "status",
      text: a("relist_ok", { title: made.title }) }));
  } catch (err) {
    const box = { session_id: "r-session", start_price_fen: "r-start",
      duration_s: "r-duration", listing_days: "r-listing-days", listing_ends_at: "r-listing-days",
      format: "r-session" }[err.field];
    if (box) fieldError(box, err.message);
    say($("r-msg"), () => errText(err), "bad");
  }
});
