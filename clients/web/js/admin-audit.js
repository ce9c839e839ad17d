// 操作记录 (/admin/audit.html?market=CODE&from=&to=&actor=): GET /markets/{code}/audit, the
// market's and its subtree's audit trail (docs/http-api.md "Audit trail"), newest first: when,
// who, what (the route in words where we know it), the ids, the status; filters from / to /
// actor, and 导出 CSV (audit.csv with the same filters). Market admins and the platform admin.
import { dateTime, el, param } from "./common.js";
import { $, a, call, errText, gate, may, myMarkets, roleText, say, setupPage, table, whoAmI }
  from "./admin.js";

const code = param("market") || "";
let me = null;
let names = new Map();
let entries = null;

// [method, route template after /api/v1] → text key; the rest shows the route itself
const WORDS = [
  ["POST", "/auth/login", "w_login"], ["POST", "/auth/logout", "w_logout"],
  ["POST", "/auth/password", "w_password"], ["POST", "/markets", "w_market"],
  ["POST", "/accounts", "w_account"], ["POST", "/accounts/{account_id}/disable", "w_account_disable"],
  ["POST", "/sessions", "w_session"], ["PATCH", "/sessions/{session_id}", "w_session_edit"],
  ["POST", "/sessions/{session_id}/publish", "w_publish"],
  ["POST", "/sessions/{session_id}/lots", "w_lot"],
  ["POST", "/sessions/{session_id}/lots/import", "w_lot_import"],
  ["POST", "/lots/{lot_id}/commands", "w_lot_cmd"],
  ["POST", "/lots/{lot_id}/attachments", "w_attach"],
  ["DELETE", "/lots/{lot_id}/attachments/{file_id}", "w_attach_del"],
  ["POST", "/sessions/{session_id}/staff-tokens", "w_staff_token"],
  ["POST", "/sessions/{session_id}/registrations", "w_reg"],
  ["POST", "/registrations/{registration_id}/approve", "w_reg_approve"],
  ["POST", "/registrations/{registration_id}/reject", "w_reg_reject"],
  ["POST", "/registrations/{registration_id}/deposit", "w_deposit"],
  ["POST", "/sessions/{session_id}/deposits/settle", "w_settle"],
  ["POST", "/deposits/{deposit_id}/forfeit", "w_forfeit"],
  ["PATCH", "/lots/{lot_id}", "w_lot_edit"], ["PUT", "/sessions/{session_id}/order", "w_order"],
  ["PUT", "/registrations/{registration_id}/refund-account", "w_refund_account"],
];

/** The entry's route in words (when known) above the route itself. */
function what(entry) {
  const path = entry.route.replace(/^[A-Z]+ /, "").replace(/^\/api\/v1/, "");
  const known = entry.method === "WS" ? "w_ws_cmd"
    : WORDS.find(([m, p]) => m === entry.method && p === path)?.[2];
  const route = el("span", { class: "small muted mono", text: entry.route });
  return known ? el("span", {}, a(known), el("br"), route) : route;
}

function filters() {
  const q = new URLSearchParams();
  for (const k of ["from", "to", "actor"]) {
    const v = $(k).value.trim();
    if (v) q.set(k, v);
  }
  return q;
}

/** The path's ids, then (after →) the ids the answer created, one a line. */
function ids(entry) {
  const parts = Object.entries(entry.ids || {}).map(([k, v]) => `${k}=${v}`);
  const made = Object.entries(entry.created || {}).map(([k, v]) =>
    `→ ${k}=${Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : v}`);
  const lines = [...parts, ...made];
  return lines.length ? el("span", { class: "mono" }, ...lines.flatMap((t, i) =>
    (i ? [el("br"), t] : [t]))) : "—";
}

function actor(entry) {
  const who = entry.actor || {};
  const name = who.subject || (who.account_id ? `#${who.account_id}` : "—");
  return `${name} · ${who.role ? roleText(who.role) : "—"}`;
}

function paint() {
  if (!me || !entries) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  const title = a("audit_title", { name: names.get(code) ? `${names.get(code)} (${code})` : code });
  $("title").textContent = title;
  document.title = `${title} · ${a("admin")}`;
  $("count").textContent = a("audit_count", { n: entries.length });
  if (!entries.length) {
    $("entries").replaceChildren(el("p", { class: "muted", text: a("audit_none") }));
    return;
  }
  $("entries").replaceChildren(table(["audit_at", "audit_who", "audit_what", "market",
    "audit_ids", "audit_status"], entries.map((e) => [dateTime(e.at), actor(e), what(e),
    e.market_code || "—", ids(e),
    el("span", { class: "num", text: String(e.status) })]), "audit"));
}

async function fetchEntries() {
  const q = filters();
  const base = `/markets/${encodeURIComponent(code)}`;
  $("csv").href = `/api/v1${base}/audit.csv${q.toString() ? `?${q}` : ""}`;
  entries = (await call(`${base}/audit${q.toString() ? `?${q}` : ""}`)).entries;
  paint();
}

$("filter").addEventListener("submit", async (e) => {
  e.preventDefault();
  say($("msg"), "");
  const q = filters();
  q.set("market", code);
  history.replaceState(null, "", `?${q}`);
  try {
    await fetchEntries();
  } catch (err) {
    const box = { from: "from", to: "to", actor: "actor" }[err.field];
    if (box) $(box).setAttribute("aria-invalid", "true");
    say($("msg"), () => errText(err), "bad");
  }
});

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "audit")) {
    gate("no_right");
    return;
  }
  const mine = await myMarkets(me);
  names = new Map(mine.map((m) => [m.code, m.name]));
  if (!names.has(code)) {
    gate("no_market_access");
    return;
  }
  for (const k of ["from", "to", "actor"]) $(k).value = param(k) || "";
  $("content").classList.remove("hidden");
  await fetchEntries();
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
