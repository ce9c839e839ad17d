// 我的竞拍 (me.html): the logged-in bidder's registrations with their deposits and states, the
// lots it bids on (领先 / 出局: the rooms' live state while open, the results once closed), and
// the lots it won with what comes next — all from GET /api/v1/me/auction with the cookie login
// (docs/http-api.md "My auction"), refreshed every few seconds while the page is open.
import { api, dateTime, el, lang, setupLang, yuan } from "./common.js";
import { applyTr, depositState, loginHref, tr, whoAmI } from "./account.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;

let me = null;
let gate = null;
let mine = null; // GET /me/auction

function card(...children) {
  return el("div", { class: "item" }, ...children);
}

function tag(state) {
  return el("span", { class: `tag t-${state}`, "data-state": state, text: tr(state) });
}

// 成交确认书 (issue 13 item 1): the won lot's PDF, downloaded with the cookie login
// (GET /api/v1/lots/{id}/confirmation.pdf, docs/http-api.md "成交确认书")
function confirmationLink(w) {
  const text = lang() === "en" ? "Download the deal confirmation (PDF)" : "下载成交确认书";
  return el("p", { class: "small" }, el("a", {
    href: `/api/v1/lots/${w.lot_id}/confirmation.pdf`, download: "", "data-lot": String(w.lot_id),
    text,
  }));
}

// 合同登记 of a won lot (issue 13): 待登记 / 已登记 + number / 未予登记 + reason; its own texts
const REG_TEXT = {
  zh: { label: "合同登记", pending: "待登记", registered: "已登记", rejected: "未予登记",
    dead: "待登记", void: "不予办理（已悔拍）", no: "登记编号", reason: "原因" },
  en: { label: "Contract registration", pending: "awaiting registration",
    registered: "registered", rejected: "not registered", dead: "awaiting registration",
    void: "not to be registered (the buyer defaulted)", no: "No.", reason: "reason" },
};
function registrationLine(reg) {
  if (!reg) return null;
  const text = REG_TEXT[document.documentElement.lang === "zh-CN" ? "zh" : "en"];
  const shown = reg.shown || "pending";
  return el("p", { class: `small reg-line rl-${shown}`, "data-registration": shown },
    `${text.label}: `, el("strong", { text: text[shown] || shown }),
    shown === "registered" && reg.registration_no
      ? ` · ${text.no} ` : "", shown === "registered" && reg.registration_no
      ? el("span", { class: "num", text: reg.registration_no }) : "",
    shown === "rejected" && reg.reason ? ` · ${text.reason}: ${reg.reason}` : "");
}

function render() {
  applyTr();
  $("gate").classList.toggle("hidden", !gate);
  if (gate) $("gate-text").textContent = tr(gate);
  $("gate-login").href = loginHref();
  $("mine").classList.toggle("hidden", Boolean(gate) || !me);
  $("who").textContent = me ? tr("logged_in_as", { name: me.account?.username || me.subject }) : "";
  if (!me || gate) return;

  const winsBox = $("wins");
  winsBox.textContent = "";
  for (const w of mine?.won || []) {
    winsBox.append(card(
      el("div", { class: "row" }, el("a", { href: `lot.html?id=${w.lot_id}`, text: w.title }),
        tag("won")),
      el("div", { class: "small" }, `${tr("deal_price")} `,
        el("strong", { class: "num", text: yuan(w.amount_fen) }),
        ` · ${tr("my_paddle")} ${w.paddle}${w.hammer_at ? " · " + dateTime(w.hammer_at) : ""}`),
      balanceLine(w.lot_id),
      w.next_step ? el("p", { class: "small", "data-next-step": w.next_step_code || "" },
        el("strong", { text: `${tr("next_steps")}: ` }), el("span", {
          text: lang() === "en" ? `${w.next_step_en}.` : `${w.next_step}。` })) : null,
      confirmationLink(w), registrationLine(w.registration), subsidyLine(w.lot_id),
      receiptsLine(w.lot_id)));
  }
  if (!mine?.won?.length) winsBox.append(el("p", { class: "muted", text: tr("nothing_yet") }));

  const bidBox = $("bidding");
  bidBox.textContent = "";
  const wonIds = new Set((mine?.won || []).map((w) => w.lot_id));
  const bids = (mine?.bidding || []).filter((b) => !wonIds.has(b.lot_id));
  for (const b of bids) {
    const open = b.status === "open" || b.status === "scheduled";
    const state = open ? (b.leading ? "leading" : "outbid") : (b.leading ? "won" : "lost");
    bidBox.append(card(
      el("div", { class: "row" }, el("a", { href: `lot.html?id=${b.lot_id}`, text: b.title }),
        tag(state)),
      el("div", { class: "small num" },
        `${tr(open ? "current" : "deal_price")} ${yuan(b.current_fen)} · ${tr("my_high")} ${yuan(b.my_high_fen)}`),
      receiptsLine(b.lot_id)));
  }
  if (!bids.length) bidBox.append(el("p", { class: "muted", text: tr("nothing_yet") }));

  const regBox = $("regs");
  regBox.textContent = "";
  for (const r of mine?.registrations || []) {
    const deposits = (mine.deposits || []).filter((d) => d.registration_id === r.id)
      .map((d) => `${yuan(d.amount_fen)} ${depositState(d.state)}`);
    regBox.append(card(
      el("div", { class: "row" },
        el("a", { href: `apply.html?session=${r.session_id}`, text: r.session_name || `#${r.session_id}` }),
        el("span", { class: `reg-status rs-${r.status}`, "data-status": r.status,
          text: tr(`status_${r.status}`) })),
      el("div", { class: "small" },
        r.paddle ? `${tr("my_paddle")} ${r.paddle} · ` : "",
        `${tr("deposit")}: ${deposits.length ? deposits.join("; ") : depositState(null)}`),
      r.status === "rejected" && r.reason
        ? el("div", { class: "small field-err", text: `${tr("reason")}: ${r.reason}` }) : null));
  }
  if (!mine?.registrations?.length) regBox.append(el("p", { class: "muted", text: tr("nothing_yet") }));
}

async function load() {
  me = await whoAmI();
  if (!me) {
    gate = "need_login";
    return;
  }
  if (me.role !== "bidder" || !me.bidder_id) {
    gate = "not_bidder";
    return;
  }
  gate = null;
  mine = await api("/me/auction");
  await loadPayments();
  await loadSubsidies();
  await loadMyBids();
}

// issue 13: the balance of each won lot (GET /lots/{id}/payment, the buyer's own login), read
// at most once a minute: 尾款, 付款期限 and 待付款 / 已付清 / 逾期 / 悔拍
const payments = new Map();
let paymentsAt = 0;
const PAY_TEXT = {
  zh: { balance: "尾款", open: "未付", due: "付款期限", st: (p) => p.status },
  en: { balance: "Balance", open: "open", due: "due",
        st: (p) => ({ pending: "awaiting payment", paid: "paid", overdue: "overdue",
                      defaulted: "defaulted" })[p.status_code] },
};

async function loadPayments() {
  if (Date.now() - paymentsAt < 60000 && (mine?.won || []).every((w) => payments.has(w.lot_id))) return;
  paymentsAt = Date.now();
  for (const w of mine?.won || []) {
    const p = await api(`/lots/${w.lot_id}/payment`).catch(() => null);
    if (p) payments.set(w.lot_id, p);
  }
}

function balanceLine(lotId) {
  const p = payments.get(lotId);
  if (!p) return null;
  const x = PAY_TEXT[lang()];
  return el("div", { class: "small", "data-payment": p.status_code },
    `${x.balance} `, el("strong", { class: "num", text: yuan(p.balance_fen) }),
    ` · ${x.open} ${yuan(p.open_fen)} · ${x.due} ${p.due_on} · `,
    el("span", { class: `tag t-${p.status_code === "paid" ? "won" : "outbid"}`, text: x.st(p) }));
}

// issue 16: the subsidy estimates (预估) of each registered won lot under the market's rules
// (GET /api/v1/me/subsidy-estimates), read at most once a minute; clearly an estimate
const subsidies = new Map(); // lot id → [estimate]
let subsidiesAt = 0;
const SUB_TEXT = {
  zh: { label: "补贴", estimate: "预估", capped: "已达年度上限", note: "以主管部门核定为准" },
  en: { label: "Subsidy", estimate: "estimate", capped: "yearly cap reached",
        note: "the authority decides" },
};

async function loadSubsidies() {
  if (Date.now() - subsidiesAt < 60000) return;
  subsidiesAt = Date.now();
  const found = await api("/me/subsidy-estimates").catch(() => null);
  if (!found) return;
  subsidies.clear();
  for (const e of found.estimates) subsidies.set(e.lot_id, [...(subsidies.get(e.lot_id) || []), e]);
}

function subsidyLine(lotId) {
  const found = subsidies.get(lotId);
  if (!found?.length) return null;
  const x = SUB_TEXT[lang()];
  const total = found.reduce((sum, e) => sum + e.estimate_fen, 0);
  return el("p", { class: "small", "data-subsidy": String(total) }, `${x.label} `,
    el("span", { class: "tag t-outbid", text: x.estimate }), " ",
    el("strong", { class: "num", text: yuan(total) }),
    found.some((e) => e.capped) ? ` · ${x.capped}` : "", ` · ${found.map((e) => e.rule).join("、")}`,
    ` (${x.note})`);
}

// issue 16 item 5: the signed receipt of each of the bidder's accepted bids (GET
// /api/v1/lots/{id}/bids/{seq}/receipt with the cookie login; docs/formats.md "Bid receipt").
// The bids are the lot's public history (GET /lots/{id}/bids) under the bidder's paddle of the
// lot's session, read at most every 30 s per lot; the list is folded (<details>) and stays open
// across the page's refreshes once opened.
const RCPT_TEXT = {
  zh: { label: "出价回执", link: "下载回执", of: (b) => `下载回执 第 ${b.seq} 号出价`,
        note: "服务器签名, 可对照成交公示的记录哈希核验" },
  en: { label: "Bid receipts", link: "Receipt", of: (b) => `Receipt of bid #${b.seq}`,
        note: "signed by the server; check it against the record hash on the results page" },
};
const myBids = new Map(); // lot id → {at, bids}
const receiptsOpen = new Set();

function paddleFor(lot) {
  if (lot.paddle) return lot.paddle;
  return (mine?.registrations || []).find((r) => r.session_id === lot.session_id)?.paddle || null;
}

async function loadMyBids() {
  for (const lot of [...(mine?.won || []), ...(mine?.bidding || [])]) {
    const paddle = paddleFor(lot);
    const seen = myBids.get(lot.lot_id);
    if (!paddle || (seen && Date.now() - seen.at < 30000)) continue;
    const found = await api(`/lots/${lot.lot_id}/bids`).catch(() => null);
    if (found) {
      myBids.set(lot.lot_id, { at: Date.now(),
        bids: found.bids.filter((b) => b.paddle === paddle) });
    }
  }
}

function receiptsLine(lotId) {
  const bids = myBids.get(lotId)?.bids || [];
  if (!bids.length) return null;
  const x = RCPT_TEXT[lang()];
  const box = el("details", { class: "small receipts", "data-receipts": String(lotId) },
    el("summary", { text: `${x.label} (${bids.length})` }),
    el("p", { class: "muted", text: x.note }),
    el("ul", {}, ...bids.map((b) => el("li", {},
      el("span", { class: "num", text: `#${b.seq} ${yuan(b.amount_fen)} ${dateTime(b.at)} ` }),
      el("a", { href: `/api/v1/lots/${lotId}/bids/${b.seq}/receipt`,
        download: `receipt-lot${lotId}-seq${b.seq}.json`, "data-receipt-seq": String(b.seq),
        "aria-label": x.of(b), text: x.link })))));
  if (receiptsOpen.has(lotId)) box.open = true;
  box.addEventListener("toggle", () => {
    if (box.open) receiptsOpen.add(lotId);
    else receiptsOpen.delete(lotId);
  });
  return box;
}

async function tick() {
  try {
    await load();
  } catch {
    // shown as it was; the next tick tries again
  }
  render();
}

setupLang($("lang"), render);
tick();
setInterval(() => {
  if (!document.hidden && me) tick();
}, REFRESH_MS);
