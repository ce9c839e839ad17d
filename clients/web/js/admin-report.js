// 场次报告 (/admin/report.html?session=N): GET /sessions/{id}/report as a page — totals, lots
// with their results and buyers, bidders, deposits — and 下载 Excel (…/report.xlsx, the cookie
// login goes with the link). 合同登记移交: each sold lot's hand-off (GET /lots/{id}/registration)
// with 重试 on a dead one (POST /registration/retry, market admins and the platform admin), the
// office's answer (登记结果: 待登记 / 已登记 + number / 未予登记 + reason, with the packet's
// version) and 更正重发 on a rejected one: a form of the correctable fields that sends the next
// version (POST /lots/{id}/registration/versions; docs/http-api.md "Registration").
// 下载移交数据 on each queued row, for whoever may re-queue it (market admins, the platform admin):
// the packet as a JSON file (GET /lots/{id}/registration/packet; earlier versions by
// ?version=n, listed beside it once a correction made more than one). Readers: the session's
// market staff (docs/roles.md).
import { dateTime, el, lang, param, parseYuan } from "./common.js";
import { $, a, call, errText, gate, may, money, post, roleText, say, scopedSession, setupPage,
  table, whoAmI } from "./admin.js";

const id = Number(param("session")) || 0;
let me = null;
let session = null;
let report = null;
let handoff = []; // [{lot, reg}] for sold lots
let correcting = null; // the lot whose correction form is open

// this page's own texts (the registration answer, issue 13), kept here rather than in admin.js
const R = {
  zh: {
    answer: "登记结果", version: "版本", correct: "更正重发", correct_n: "更正重发: {title}",
    correct_h: "更正登记资料并重新移交: {title}", send: "发送新版本", cancel: "取消",
    keep: "不更正", subtype: "合同类别", tech_amount: "技术交易额 (元)",
    seller_nature: "卖方主体性质", buyer_nature: "买方主体性质",
    seller_region: "卖方行政区划代码", buyer_region: "买方行政区划代码",
    nothing: "请至少更正一项", bad_amount: "技术交易额应为金额, 如 1000000 或 100万",
    sent: "已发送第 {version} 版: {title}", rs_rejected: "未予登记", rs_registered: "已登记",
    rs_pending: "待登记", rs_dead: "移交失败",
    packet: "移交数据", download: "下载移交数据", download_n: "下载移交数据: {title}",
    version_n: "第 {version} 版", version_dl: "下载第 {version} 版移交数据: {title}",
  },
  en: {
    answer: "Registration", version: "Version", correct: "Correct and resend",
    correct_n: "Correct and resend: {title}", correct_h: "Correct and resend: {title}",
    send: "Send the new version", cancel: "Cancel", keep: "unchanged",
    subtype: "Contract sub-type", tech_amount: "Technology amount (yuan)",
    seller_nature: "Seller's nature", buyer_nature: "Buyer's nature",
    seller_region: "Seller's division code", buyer_region: "Buyer's division code",
    nothing: "Correct at least one field", bad_amount: "The technology amount must be an amount",
    sent: "Version {version} sent: {title}", rs_rejected: "Not registered",
    rs_registered: "Registered", rs_pending: "Awaiting registration", rs_dead: "Failed",
    packet: "Hand-off data", download: "Download hand-off data",
    download_n: "Download hand-off data: {title}", version_n: "v{version}",
    version_dl: "Download version {version} of the hand-off data: {title}",
  },
};
function r(key, vars = {}) {
  const text = R[lang()]?.[key] ?? R.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}
// auction/domain/registration_form.py SUBTYPES and NATURES
const SUBTYPES = [["TRF_PATENT", "专利权转让"], ["TRF_PATENT_APP", "专利申请权转让"],
  ["TRF_KNOWHOW", "技术秘密转让"], ["TRF_OTHER_IP", "其他知识产权转让"],
  ["LIC_PATENT", "专利实施许可"], ["LIC_KNOWHOW", "技术秘密使用许可"],
  ["LIC_OTHER_IP", "其他知识产权许可"], ["DEV_COMMISSIONED", "委托开发"],
  ["DEV_COOPERATIVE", "合作开发"], ["CONSULT", "技术咨询"], ["SERVICE_GENERAL", "一般技术服务"],
  ["SERVICE_TRAINING", "技术培训"], ["SERVICE_BROKERAGE", "技术中介"]];
const NATURES = ["企业", "高等院校", "科研机构", "其他事业单位", "机关", "社团", "个人", "其他"];

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
    }), "report-lots stack") : el("p", { class: "muted", text: a("no_lots") }));
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
  $("handoff").replaceChildren(table(["ordinal", "title", "reg_status", r("answer"),
    r("version"), "attempts", "last_error", "delivered_at", r("packet"), ""],
  handoff.map(({ lot, reg }) => {
    const status = reg ? reg.status : null;
    const fallback = reg?.shown ? r(`rs_${reg.shown}`) : status;
    const words = status ? (a(`hs_${status}`) === `hs_${status}` ? fallback : a(`hs_${status}`))
      : a("not_queued");
    const retry = status === "dead" && may(me.role, "retry")
      ? el("button", { type: "button", class: "primary", text: a("retry"),
        "aria-label": a("retry_n", { title: lot.title }), onclick: () => retryLot(lot) })
      : "";
    const fix = status === "rejected" && may(me.role, "retry")
      ? el("button", { type: "button", class: "primary", text: r("correct"),
        "aria-label": r("correct_n", { title: lot.title }), onclick: () => openCorrection(lot) })
      : "";
    return [String(lot.ordinal), lot.title,
      el("span", { class: `badge hs-${status || "none"}`, text: words }), answerCell(reg),
      reg ? String(reg.version || 1) : "—",
      reg ? String(reg.attempts) : "—", reg?.last_error || "—",
      reg?.delivered_at ? dateTime(reg.delivered_at) : "—", packetCell(lot, reg), retry || fix];
  }), "handoff"));
  if (correcting) $("handoff").append(correctionForm(correcting));
}

/** 下载移交数据 (the current version) and, after corrections, each earlier version. */
function packetCell(lot, reg) {
  if (!reg || !may(me.role, "retry")) return "—";
  const url = (v) => `/api/v1/lots/${lot.lot_id}/registration/packet${v ? `?version=${v}` : ""}`;
  const current = reg.version || 1;
  const earlier = Array.from({ length: current - 1 }, (_, i) => i + 1);
  return el("span", { class: "packet-links" },
    el("a", { href: url(0), download: "", class: "small", text: r("download"),
      "aria-label": r("download_n", { title: lot.title }) }),
    ...earlier.flatMap((v) => [" ", el("a", { href: url(v), download: "", class: "small muted",
      text: r("version_n", { version: v }),
      "aria-label": r("version_dl", { version: v, title: lot.title }) })]));
}

/** 待登记 / 已登记 + number / 未予登记 + reason. */
function answerCell(reg) {
  if (!reg) return "—";
  const shown = reg.shown || "pending";
  const words = lang() === "zh" && reg.status_text ? reg.status_text : r(`rs_${shown}`);
  const detail = shown === "registered" ? reg.registration_no
    : shown === "rejected" ? reg.reason : "";
  return el("span", { class: `reg-answer ra-${shown}`, "data-shown": shown },
    el("strong", { text: words }), detail ? ` ${detail}` : "");
}

function openCorrection(lot) {
  correcting = lot;
  paintHandoff();
  $("fix-subtype")?.focus();
}

function correctionForm(lot) {
  const choice = (id, label, options) => el("div", { class: "field" },
    el("label", { for: id, text: label }),
    el("select", { id }, el("option", { value: "", text: r("keep") }),
      ...options.map(([value, text]) => el("option", { value, text }))));
  const input = (id, label, attrs = {}) => el("div", { class: "field" },
    el("label", { for: id, text: label }),
    el("input", { id, type: "text", autocomplete: "off", ...attrs }));
  const natures = NATURES.map((n) => [n, n]);
  const form = el("form", { class: "card correction", "aria-label": r("correct_h", { title: lot.title }) },
    el("h3", { text: r("correct_h", { title: lot.title }) }),
    el("div", { class: "grid2" },
      choice("fix-subtype", r("subtype"), SUBTYPES.map(([k, label]) => [k, `${label} (${k})`])),
      input("fix-tech", r("tech_amount"), { inputmode: "decimal" }),
      choice("fix-seller-nature", r("seller_nature"), natures),
      choice("fix-buyer-nature", r("buyer_nature"), natures),
      input("fix-seller-region", r("seller_region"), { inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}" }),
      input("fix-buyer-region", r("buyer_region"), { inputmode: "numeric", maxlength: "6", pattern: "[0-9]{6}" })),
    el("div", { class: "row" },
      el("button", { type: "submit", class: "primary", text: r("send") }),
      el("button", { type: "button", text: r("cancel"), onclick: () => { correcting = null; paintHandoff(); } })));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    sendCorrection(lot);
  });
  return form;
}

async function sendCorrection(lot) {
  const corrections = {};
  const pick = (id, key) => {
    const value = $(id).value.trim();
    if (value) corrections[key] = value;
  };
  pick("fix-subtype", "contract_subtype");
  pick("fix-seller-nature", "seller_nature");
  pick("fix-buyer-nature", "buyer_nature");
  pick("fix-seller-region", "seller_region");
  pick("fix-buyer-region", "buyer_region");
  const tech = $("fix-tech").value.trim();
  if (tech) {
    const fen = parseYuan(tech);
    if (fen === null) {
      say($("handoff-msg"), () => r("bad_amount"), "bad");
      return;
    }
    corrections.tech_amount_fen = fen;
  }
  if (!Object.keys(corrections).length) {
    say($("handoff-msg"), () => r("nothing"), "bad");
    return;
  }
  try {
    const made = await post(`/lots/${lot.lot_id}/registration/versions`, { corrections });
    correcting = null;
    say($("handoff-msg"), () => r("sent", { version: made.version, title: lot.title }), "good");
  } catch (err) {
    say($("handoff-msg"), () => errText(err), "bad");
  }
  await loadHandoff();
  paintHandoff();
}

async function retryLot(lot) {
  try {
    await post("/registration/retry", { lot_id: lot.lot_id });
    say($("handoff-msg"), () => a("retried_ok", { title: lot.title }), "good");
  } catch (err) {
    say($("handoff-msg"), () => errText(err), "bad");
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
  $("packet-note").classList.toggle("hidden", !may(me.role, "retry"));
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
load().catch((err) => say($("msg"), () => errText(err), "bad"));
