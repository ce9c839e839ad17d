// 场次报告 (/admin/report.html?session=N): GET /sessions/{id}/report as a page — totals, lots
// with their results and buyers, bidders, deposits — and 下载 Excel (…/report.xlsx, the cookie
// login goes with the link). 合同登记移交: each sold lot's hand-off (GET /lots/{id}/registration)
// with 重试 on a dead one (POST /registration/retry, market admins and the platform admin).
// The API offers no hand-off packet to download: the page says so. Readers: the session's
// market staff (docs/roles.md).
import { dateTime, el, lang, param } from "./common.js";
import { $, a, call, errText, gate, may, money, post, roleText, say, scopedSession, setupPage,
  table, whoAmI } from "./admin.js";

const id = Number(param("session")) || 0;
let me = null;
let session = null;
let report = null;
let handoff = []; // [{lot, reg}] for sold lots

// 成交确认书 (issue 13 item 1) of a sold lot, beside its buyer: the PDF by the cookie login, for
// the market's admins and finance (an auctioneer may read the report but not the document)
function buyerCell(l, r) {
  const name = r?.buyer?.name || "—";
  if (r?.outcome !== "sold" || me.role === "auctioneer") return name;
  return el("span", {}, name, " ", el("a", {
    href: `/api/v1/lots/${l.lot_id}/confirmation.pdf`, download: "", class: "small",
    text: lang() === "zh" ? "成交确认书" : "Confirmation (PDF)",
    "aria-label": `${lang() === "zh" ? "成交确认书" : "Confirmation"} ${l.ordinal}. ${l.title}`,
  }));
}

function paint() {
  if (!me || !session || !report) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  const title = a("report_title", { name: session.name });
  $("title").textContent = title;
  document.title = `${title} · ${a("admin")}`;
  const t = report.totals;
  const rows = [
    ["lots_total", String(t.lots.total)], ["t_sold", String(t.lots.sold)],
    ["t_passed", String(t.lots.passed)], ["t_withdrawn", String(t.lots.withdrawn)],
    ["t_unsettled", String(t.lots.unsettled)], ["hammer_total", money(t.hammer_total_fen)],
    ["start_total", money(t.start_total_of_sold_fen)], ["bid_count", String(t.bid_count)],
    ["registered", String(t.registered)], ["with_paddle", String(t.bidders_with_paddle)],
    ["deposits_applied", money(t.deposits_applied_fen)],
    ["deposits_released", money(t.deposits_released_fen)],
  ];
  $("totals").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: a(k) }),
    el("dd", { class: "num", text: v })]));
  $("r-lots").replaceChildren(report.lots.length ? table(
    ["ordinal", "title", "start_price", "bid_count", "result", "price", "paddle_h", "buyer"],
    report.lots.map((l) => {
      const r = l.result;
      const outcome = r ? (lang() === "zh" ? r.outcome_text : a(`t_${r.outcome}`))
        : a(`st_${l.status}`);
      return [String(l.ordinal), l.title, money(l.start_price_fen), String(l.bid_count),
        el("span", { class: `badge st-${r ? r.outcome : l.status}`, text: outcome }),
        r?.outcome === "sold" ? money(r.amount_fen) : (r?.reason_text || "—"),
        r?.paddle ? String(r.paddle) : "—", buyerCell(l, r)];
    }), "report-lots") : el("p", { class: "muted", text: a("no_lots") }));
  const titles = new Map(report.lots.map((l) => [l.lot_id, `${l.ordinal}. ${l.title}`]));
  $("r-bidders").replaceChildren(report.bidders.length ? table(
    ["paddle_h", "bidder", "status", "counted", "won_lots"],
    report.bidders.map((b) => [b.paddle ? String(b.paddle) : "—", b.name || `#${b.bidder_id}`,
      a(`rs_${b.status}`) === `rs_${b.status}` ? b.status : a(`rs_${b.status}`),
      a(b.registered ? "yes" : "no"),
      (b.won_lots || []).map((lid) => titles.get(lid) || `#${lid}`).join("; ") || "—"]))
    : el("p", { class: "muted", text: a("no_regs") }));
  $("r-deps").replaceChildren(report.deposits.length ? table(
    ["paddle_h", "bidder", "dep_lot", "deposit", "dep_state"],
    report.deposits.map((d) => [d.paddle ? String(d.paddle) : "—", d.bidder_name || "—",
      d.lot_id ? titles.get(d.lot_id) || `#${d.lot_id}` : a("dep_band"), money(d.amount_fen),
      lang() === "zh" && d.state_text ? d.state_text : a(`ds_${d.state}`)]))
    : el("p", { class: "muted", text: a("no_deposits") }));
  paintHandoff();
}

function paintHandoff() {
  if (!handoff.length) {
    $("handoff").replaceChildren(el("p", { class: "muted", text: a("no_sold") }));
    return;
  }
  $("handoff").replaceChildren(table(["ordinal", "title", "reg_status", "attempts",
    "last_error", "delivered_at", ""], handoff.map(({ lot, reg }) => {
    const status = reg ? reg.status : null;
    const words = status ? (a(`hs_${status}`) === `hs_${status}` ? status : a(`hs_${status}`))
      : a("not_queued");
    const retry = status === "dead" && may(me.role, "retry")
      ? el("button", { type: "button", class: "primary", text: a("retry"),
        "aria-label": a("retry_n", { title: lot.title }), onclick: () => retryLot(lot) })
      : "";
    return [String(lot.ordinal), lot.title,
      el("span", { class: `badge hs-${status || "none"}`, text: words }),
      reg ? String(reg.attempts) : "—", reg?.last_error || "—",
      reg?.delivered_at ? dateTime(reg.delivered_at) : "—", retry];
  }), "handoff"));
}

async function retryLot(lot) {
  try {
    await post("/registration/retry", { lot_id: lot.lot_id });
    say($("handoff-msg"), a("retried_ok", { title: lot.title }), "good");
  } catch (err) {
    say($("handoff-msg"), errText(err), "bad");
  }
  await loadHandoff();
  paintHandoff();
}

async function loadHandoff() {
  const sold = report.lots.filter((l) => l.result?.outcome === "sold");
  handoff = await Promise.all(sold.map(async (lot) => ({
    lot, reg: await call(`/lots/${lot.lot_id}/registration`).catch((err) => {
      if (err.status === 404) return null;
      throw err;
    }),
  })));
}

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "report")) {
    gate("no_right");
    return;
  }
  session = await scopedSession(me, id);
  if (!session) return;
  $("back").href = `session.html?id=${id}`;
  $("xlsx").href = `/api/v1/sessions/${id}/report.xlsx`;
  if (may(me.role, "finance")) {
    $("to-finance").href = `finance.html?session=${id}`;
    $("to-finance").classList.remove("hidden");
  }
  report = await call(`/sessions/${id}/report`);
  await loadHandoff();
  paint();
}

setupPage(paint);
load().catch((err) => say($("msg"), errText(err), "bad"));
