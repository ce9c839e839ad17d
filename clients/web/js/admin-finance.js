// 财务 (/admin/finance.html?session=N): the session's deposits (GET /sessions/{id}/deposits),
// 结算保证金 (POST /sessions/{id}/deposits/settle: every lot closed, winners' deposits applied
// to the price, the others released), 没收 with a required reason (POST /deposits/{id}/forfeit,
// from held or applied) and the refund list (GET …/deposits?state=released). The API gives no
// bidder bank details: the page says so. Finance of the market, market admins, platform admin.
import { el, param } from "./common.js";
import { $, a, call, errText, gate, may, money, post, roleText, say, scopedSession, setupPage,
  table, whoAmI } from "./admin.js";

const id = Number(param("session")) || 0;
let me = null;
let session = null;
let deposits = null;
let refunds = null;

function who(d) {
  return d.bidder_name || `#${d.bidder_id}`;
}

function paint() {
  if (!me || !session) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  document.title = `${a("fin_title", { name: session.name })} · ${a("admin")}`;
  $("title").textContent = a("fin_title", { name: session.name });
  if (!deposits) return;
  $("deps").replaceChildren(deposits.deposits.length ? table(
    ["paddle_h", "bidder", "dep_lot", "deposit", "dep_state", ""],
    [...deposits.deposits.map((d) => el("tr", { "data-deposit": String(d.id) },
      el("td", { text: d.paddle ? String(d.paddle) : "—" }),
      el("td", { text: who(d) }),
      el("td", { text: d.lot_id ? `#${d.lot_id}` : a("dep_band") }),
      el("td", { class: "num", text: money(d.amount_fen) }),
      el("td", {}, el("span", { class: `badge ds-${d.state}`, text: a(`ds_${d.state}`) })),
      el("td", {}, forfeitControl(d)))),
    el("tr", { class: "sum" }, el("td", { text: a("total") }), el("td"), el("td"),
      el("td", { class: "num", text: money(deposits.total_fen) }), el("td"), el("td"))])
    : el("p", { class: "muted", text: a("no_deposits") }));
  $("refunds").replaceChildren(refunds.deposits.length ? table(
    ["paddle_h", "bidder", "dep_lot", "deposit"],
    [...refunds.deposits.map((d) => [d.paddle ? String(d.paddle) : "—", who(d),
      d.lot_id ? `#${d.lot_id}` : a("dep_band"), el("span", { class: "num", text: money(d.amount_fen) })]),
    [el("strong", { text: a("total") }), "", "", el("strong", { class: "num",
      text: money(refunds.total_fen) })]], "refunds")
    : el("p", { class: "muted", text: a("refunds_none") }));
}

function forfeitControl(d) {
  if (!["held", "applied"].includes(d.state)) return "";
  const name = who(d);
  const reason = el("input", { id: `forfeit-${d.id}`, maxlength: "500",
    "aria-label": a("forfeit_reason_n", { name }), placeholder: a("forfeit_reason") });
  return el("span", { class: "acts" }, reason, el("button", { type: "button", class: "warn",
    "aria-label": a("forfeit_n", { name }), text: a("forfeit"), onclick: async () => {
      if (!reason.value.trim()) {
        reason.setAttribute("aria-invalid", "true");
        say($("deps-msg"), a("f_required", { label: a("forfeit_reason") }), "bad");
        reason.focus();
        return;
      }
      await act(`/deposits/${d.id}/forfeit`, { reason: reason.value.trim() },
        () => a("forfeited_ok", { name }));
    } }));
}

async function act(path, body, done) {
  for (const b of document.querySelectorAll("#content button")) b.disabled = true;
  try {
    const answer = await post(path, body);
    say($("deps-msg"), done(answer), "good");
  } catch (err) {
    say($("deps-msg"), errText(err), "bad");
  }
  for (const b of document.querySelectorAll("#content button")) b.disabled = false;
  await loadDeposits();
  paint();
}

$("settle").addEventListener("click", () => act(`/sessions/${id}/deposits/settle`, undefined,
  (r) => a("settled_ok", { applied: r.applied, applied_fen: money(r.applied_fen),
    released: r.released, released_fen: money(r.released_fen) })));

async function loadDeposits() {
  [deposits, refunds] = await Promise.all([call(`/sessions/${id}/deposits`),
    call(`/sessions/${id}/deposits?state=released`)]);
}

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "finance")) {
    gate("no_right");
    return;
  }
  session = await scopedSession(me, id);
  if (!session) return;
  $("back").href = `session.html?id=${id}`;
  $("to-report").href = `report.html?session=${id}`;
  $("to-ledger").href = `ledger.html?market=${session.market_code}`;
  await loadDeposits();
  paint();
}

setupPage(paint);
load().catch((err) => say($("msg"), errText(err), "bad"));
