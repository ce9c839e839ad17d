// 财务 (/admin/finance.html?session=N): the session's deposits (GET /sessions/{id}/deposits),
// 结算保证金 (POST /sessions/{id}/deposits/settle: every lot closed, winners' deposits applied
// to the price, the others released), 没收 with a required reason (POST /deposits/{id}/forfeit,
// from held or applied) and the refund list (GET /sessions/{id}/refunds: per bidder what it
// paid, what was applied to a won lot, what is to be refunded and whether it was, with the
// refund account it gave; the refund due date once every lot closed; its CSV export). The
// release is the ledger's settlement (结算保证金). Finance of the market, market admins, the
// platform admin.
import { dateTime, el, param } from "./common.js";
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
      el("td", { class: "num", text: money(deposits.total_fen) }), el("td"), el("td"))], "stack")
    : el("p", { class: "muted", text: a("no_deposits") }));
  paintRefunds();
}

function paintRefunds() {
  $("refund-due").textContent = refunds.refund_due
    ? a("refund_due", { date: refunds.refund_due, closed: dateTime(refunds.session_closed_at) })
    : a("refund_open");
  $("refund-release").classList.toggle("hidden", !refunds.releasable);
  const amount = (fen, strong) => el(strong ? "strong" : "span", { class: "num", text: money(fen) });
  const missing = () => el("span", { class: "muted", text: a("refund_missing") });
  const t = refunds.totals;
  $("refunds").replaceChildren(refunds.refunds.length ? table(
    ["paddle_h", "bidder", "refund_paid", "refund_applied", "refund_forfeited", "refund_to",
      "refund_state", "refund_name", "refund_bank", "refund_account"],
    [...refunds.refunds.map((r) => [r.paddle ? String(r.paddle) : "—", who(r),
      amount(r.deposit_fen), amount(r.applied_fen), amount(r.forfeited_fen),
      amount(r.refund_fen, true),
      r.refund_fen ? el("span", { class: `badge ${r.released ? "ds-released" : "ds-held"}`,
        text: a(r.released ? "refund_done" : "refund_pending") }) : "—",
      r.refund_name || missing(), r.refund_bank || missing(),
      r.refund_account ? el("span", { class: "mono", text: r.refund_account }) : missing()]),
    [el("strong", { text: a("total") }), "", amount(t.deposit_fen, true),
      amount(t.applied_fen, true), amount(t.forfeited_fen, true), amount(t.refund_fen, true),
      "", "", "", ""]], "refunds stack")
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
        say($("deps-msg"), () => a("f_required", { label: a("forfeit_reason") }), "bad");
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
    say($("deps-msg"), () => done(answer), "good");
  } catch (err) {
    say($("deps-msg"), () => errText(err), "bad");
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
    call(`/sessions/${id}/refunds`)]);
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
  $("refunds-csv").href = `/api/v1/sessions/${id}/refunds.csv`;
  await loadDeposits();
  paint();
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
