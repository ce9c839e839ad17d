// 保证金台账 (/admin/ledger.html?market=CODE): GET /markets/{code}/ledger, the market and every
// market below it in my scope: per market what was received (Σ confirmed entries) and what
// sits in each state now. The conservation check (docs/roles.md: received = confirmed + held +
// released + applied + forfeited) is said in words above the table and per market.
// Finance of the market, market admins (their subtree), the platform admin.
import { el, param } from "./common.js";
import { $, a, call, errText, gate, may, money, myMarkets, roleText, say, setupPage, table, whoAmI }
  from "./admin.js";

const code = param("market") || "";
const FUNDED = ["confirmed", "held", "released", "applied", "forfeited"];
let me = null;
let names = new Map();
let ledger = null;

function paint() {
  if (!me || !ledger) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  const title = a("ledger_title", { name: names.get(code) ? `${names.get(code)} (${code})` : code });
  $("title").textContent = title;
  document.title = `${title} · ${a("admin")}`;
  $("verdict").textContent = a(ledger.conserved ? "conserved_yes" : "conserved_no");
  $("verdict").className = `verdict ${ledger.conserved ? "good" : "bad"}`;
  $("ledger").replaceChildren(table(["market", "received", ...FUNDED.map((s) => `ds_${s}`),
    "sum_states", "conserved"], ledger.markets.map((m) => {
    const sum = FUNDED.reduce((t, s) => t + (m.balances[s] || 0), 0);
    return [`${names.get(m.market_code) || ""} ${m.market_code}`.trim(),
      el("span", { class: "num", text: money(m.received_fen) }),
      ...FUNDED.map((s) => el("span", { class: "num", text: money(m.balances[s] || 0) })),
      el("span", { class: "num", text: money(sum) }),
      el("strong", { class: m.conserved ? "good-text" : "warn-text",
        text: a(m.conserved ? "yes" : "no") })];
  }), "ledger"));
}

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "finance")) {
    gate("no_right");
    return;
  }
  const mine = await myMarkets(me);
  names = new Map(mine.map((m) => [m.code, m.name]));
  if (!names.has(code)) {
    gate("no_market_access");
    return;
  }
  $("content").classList.remove("hidden");
  ledger = await call(`/markets/${encodeURIComponent(code)}/ledger`);
  paint();
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
