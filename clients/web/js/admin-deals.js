// 成交与付款 (/admin/deals.html?session=N, issue 13): the session's sold lots with the buyer's
// balance (GET /sessions/{id}/payments: price, deposit applied, balance, paid, open, due date,
// status 待付款 / 已付清 / 逾期 / 悔拍); 登记付款 (POST /lots/{id}/payments) and, for a lot past
// its due date, 宣布悔拍 (POST /lots/{id}/default: the deposit is forfeited) — finance and market
// admins; the objections to the session's 成交公示 (GET /sessions/{id}/objections) and their
// resolution (POST /objections/{id}/resolution), and the market's notice period and objection
// contact (PATCH /markets/{code}) — market admins.
import { csrf } from "./account.js";
import { dateTime, el, lang, param, parseYuan } from "./common.js";
import { $, a, call, errText, gate, may, money, post, roleText, say, scopedSession, setupPage,
  stackable, whoAmI } from "./admin.js";

const id = Number(param("session")) || 0;
let me = null;
let session = null;
let sales = [];
let today = "";
let objections = null; // null: not the caller's to see
let market = null; // the session's market's notice settings (market admins)

const TEXTS = {
  zh: {
    title: "成交与付款 · {name}", sales: "成交标的与尾款", lot: "标的", amount: "付款金额（元）",
    sales_hint: "尾款 = 成交价 − 抵作价款的保证金；付款期限为成交日后 5 个工作日。",
    paid_on: "到账日期", bank_reference: "银行流水号", record_payment: "登记付款",
    declare_default: "宣布悔拍", reason: "悔拍原因", objections: "成交公示异议",
    default_hint: "仅付款期限届满仍未付清的标的可宣布悔拍：买受人的保证金将被没收，违约记录记入该竞买人。",
    objection: "异议", resolution: "处理结果", record_resolution: "记录处理结果",
    notice_settings: "本市场成交公示设置", notice_days: "公示期（工作日）", objection_contact: "异议联系方式",
    notice_days_hint: "1–30 个工作日，适用于此后开始的公示", save_notice: "保存公示设置",
    bad_days: "公示期应为 1 到 30 之间的整数", notice_ok: "已保存：公示期 {n} 个工作日",
    ordinal: "序号", buyer: "买受人", price: "成交价", deposit: "保证金抵扣", balance: "尾款",
    paid: "已付", open: "未付", due_on: "付款期限", status: "状态", actions: "操作",
    no_sales: "本场次暂无成交标的。", no_objections: "暂无异议。", pay_n: "登记付款：{title}",
    default_n: "宣布悔拍：{title}", resolve_n: "处理异议 {id}", filer: "提出人", contact: "联系方式",
    text: "内容", filed_at: "提出时间", unresolved: "待处理", need: "请填写{label}",
    bad_amount: "请输入正确的金额（元，最多两位小数）", paid_ok: "已登记 {amount}，未付 {open}",
    default_ok: "已宣布悔拍，没收保证金 {amount}", resolved_ok: "已记录处理结果",
paddle: "号牌",
  },
  en: {
    title: "Deals & payments · {name}", sales: "Sold lots and balances", lot: "Lot",
    amount: "Amount (yuan)", sales_hint: "Balance = price − deposit applied; due 5 working days after the hammer.",
    paid_on: "Received on", bank_reference: "Bank reference", record_payment: "Record payment",
    declare_default: "Declare default", reason: "Reason", objections: "Objections to the notices",
    default_hint: "Only a lot past its due date and unpaid may be declared in default: the buyer's deposit is forfeited and the default recorded against the bidder.",
    objection: "Objection", resolution: "Resolution", record_resolution: "Record resolution",
    notice_settings: "This market's notice settings", notice_days: "Notice period (working days)",
    objection_contact: "Objection contact", notice_days_hint: "1–30 working days, for notices opened from now on",
    save_notice: "Save notice settings", bad_days: "The notice period is a whole number from 1 to 30",
    notice_ok: "Saved: notice period {n} working days",
    ordinal: "No.", buyer: "Buyer", price: "Price", deposit: "Deposit applied", balance: "Balance",
    paid: "Paid", open: "Open", due_on: "Due", status: "Status", actions: "Actions",
    no_sales: "No sold lot in this session.", no_objections: "No objection.", pay_n: "Record payment: {title}",
    default_n: "Declare default: {title}", resolve_n: "Resolve objection {id}", filer: "Filed by",
    contact: "Contact", text: "Text", filed_at: "Filed", unresolved: "open", need: "Please fill in {label}",
    bad_amount: "Enter an amount in yuan (at most 2 decimals)", paid_ok: "Recorded {amount}; open {open}",
    default_ok: "Default declared; deposit forfeited {amount}", resolved_ok: "Resolution recorded",
paddle: "Paddle",
  },
};
const STATUS_EN = { pending: "Awaiting payment", paid: "Paid", overdue: "Overdue", defaulted: "Defaulted" };
const BADGE = { pending: "ds-released", paid: "ds-applied", overdue: "ds-forfeited", defaulted: "ds-forfeited" };

function d(key, vars = {}) {
  const text = TEXTS[lang()][key] ?? TEXTS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

function head(keys) {
  return el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", { text: k ? d(k) : "" }))));
}

function rows(list) {
  return el("div", { class: "scroll-x" }, stackable(el("table", { class: "admin-table deals-table" },
    list[0], el("tbody", {}, ...list[1].map((r) => el("tr", {}, ...r.map((c) =>
      c instanceof Node ? el("td", {}, c) : el("td", { text: c ?? "—" }))))))));
}

function pick(select, value, focus) {
  select.value = String(value);
  select.closest("section").scrollIntoView({ block: "start" });
  $(focus).focus();
}

function paint() {
  if (!me || !session) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  for (const node of document.querySelectorAll("[data-d]")) node.textContent = d(node.dataset.d);
  $("title").textContent = d("title", { name: session.name });
  document.title = `${$("title").textContent} · ${a("admin")}`;
  const open = sales.filter((s) => s.status_code === "pending" || s.status_code === "overdue");
  const overdue = sales.filter((s) => s.status_code === "overdue");
  $("sales").replaceChildren(sales.length ? rows([head(["ordinal", "lot", "buyer", "price",
    "deposit", "balance", "paid", "open", "due_on", "status", "actions"]), sales.map((s) => [
    String(s.ordinal), s.title, `${s.buyer.name} · ${d("paddle")} ${s.paddle ?? "—"}`,
    money(s.price_fen), money(s.deposit_applied_fen), money(s.balance_fen), money(s.paid_fen),
    money(s.open_fen), s.due_on,
    el("span", { class: `badge ${BADGE[s.status_code]}`,
                 text: lang() === "zh" ? s.status : STATUS_EN[s.status_code] }),
    el("div", { class: "row" },
      open.includes(s) ? el("button", { type: "button", text: d("record_payment"),
        "aria-label": d("pay_n", { title: s.title }),
        onclick: () => pick($("pay-lot"), s.lot_id, "pay-amount") }) : null,
      overdue.includes(s) ? el("button", { type: "button", text: d("declare_default"),
        "aria-label": d("default_n", { title: s.title }),
        onclick: () => pick($("default-lot"), s.lot_id, "default-reason") }) : null),
  ])]) : el("p", { class: "muted", text: d("no_sales") }));
  fill($("pay-lot"), open.map((s) => [s.lot_id, `${s.ordinal}. ${s.title}（${money(s.open_fen)}）`]));
  $("pay-card").classList.toggle("hidden", !open.length);
  fill($("default-lot"), overdue.map((s) => [s.lot_id, `${s.ordinal}. ${s.title}`]));
  $("default-card").classList.toggle("hidden", !overdue.length);
  if (!$("pay-date").value && today) $("pay-date").value = today;
  paintObjections();
}

function fill(select, options) {
  const was = select.value;
  select.replaceChildren(...options.map(([value, text]) => el("option", { value: String(value), text })));
  if (options.some(([value]) => String(value) === was)) select.value = was;
}

function paintObjections() {
  $("objections-card").classList.toggle("hidden", objections === null);
  if (objections === null) return;
  const pending = objections.filter((o) => o.resolution === null);
  $("objections").replaceChildren(objections.length ? rows([head(["lot", "filer", "contact",
    "text", "filed_at", "resolution", ""]), objections.map((o) => [o.title, o.name, o.contact,
    o.text, dateTime(o.filed_at), o.resolution ?? d("unresolved"),
    o.resolution === null ? el("button", { type: "button", text: d("record_resolution"),
      "aria-label": d("resolve_n", { id: o.id }),
      onclick: () => pick($("resolve-id"), o.id, "resolve-text") }) : ""])])
    : el("p", { class: "muted", text: d("no_objections") }));
  fill($("resolve-id"), pending.map((o) => [o.id, `${o.id} · ${o.title} · ${o.name}`]));
  $("notice-form").classList.toggle("hidden", !market);
  if (market && document.activeElement?.closest("#notice-form") === null) {
    $("notice-days").value = String(market.notice_working_days);
    $("notice-contact").value = market.objection_contact;
  }
  $("resolve-form").classList.toggle("hidden", !pending.length);
}

async function loadAll() {
  const answer = await call(`/sessions/${id}/payments`);
  sales = answer.sales;
  today = answer.today;
  if (may(me.role, "manage")) {
    const answer = await call(`/sessions/${id}/objections`);
    objections = answer.objections;
    market = answer.market;
  }
}

async function submit(box, action) {
  try {
    say(box, await action(), "good");
    await loadAll();
    paint();
  } catch (err) {
    say(box, () => errText(err), "bad");
  }
}

$("pay-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const box = $("pay-msg");
  const fen = parseYuan($("pay-amount").value);
  if (!fen) {
    say(box, () => d("bad_amount"), "bad");
    $("pay-amount").focus();
    return;
  }
  for (const [field, key] of [["pay-date", "paid_on"], ["pay-ref", "bank_reference"]]) {
    if (!$(field).value.trim()) {
      say(box, () => d("need", { label: d(key) }), "bad");
      $(field).focus();
      return;
    }
  }
  submit(box, async () => {
    const answer = await post(`/lots/${$("pay-lot").value}/payments`, {
      amount_fen: fen, paid_on: $("pay-date").value, bank_reference: $("pay-ref").value.trim(),
    });
    $("pay-amount").value = "";
    $("pay-ref").value = "";
    return d("paid_ok", { amount: money(fen), open: money(answer.account.open_fen) });
  });
});

$("default-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const box = $("default-msg");
  const reason = $("default-reason").value.trim();
  if (!reason) {
    say(box, () => d("need", { label: d("reason") }), "bad");
    $("default-reason").focus();
    return;
  }
  submit(box, async () => {
    const answer = await post(`/lots/${$("default-lot").value}/default`, { reason });
    $("default-reason").value = "";
    return d("default_ok", { amount: money(answer.forfeited_fen) });
  });
});

$("notice-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const box = $("notice-msg");
  const text = $("notice-days").value.trim();
  const days = Number(text);
  if (!/^\d{1,2}$/.test(text) || days < 1 || days > 30) {
    say(box, () => d("bad_days"), "bad");
    $("notice-days").focus();
    return;
  }
  submit(box, async () => {
    const answer = await call(`/markets/${encodeURIComponent(market.code)}`, {
      method: "PATCH", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ notice_working_days: days,
                             objection_contact: $("notice-contact").value.trim() }),
    });
    return d("notice_ok", { n: answer.notice_working_days });
  });
});

$("resolve-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const box = $("resolve-msg");
  const resolution = $("resolve-text").value.trim();
  if (!resolution) {
    say(box, () => d("need", { label: d("resolution") }), "bad");
    $("resolve-text").focus();
    return;
  }
  submit(box, async () => {
    await post(`/objections/${$("resolve-id").value}/resolution`, { resolution });
    $("resolve-text").value = "";
    return d("resolved_ok");
  });
});

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
  await loadAll();
  paint();
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
