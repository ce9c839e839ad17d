// 成交公示 on GET /api/v1/publicity: results.html (all sessions) or results.html?session=N.
// Each sold lot with its 受让方 (an enterprise's name; a natural person's masked by the server),
// price, paddle, hammer time, 公示期 and the objection channel, in two lists: notices still
// running (by the server's clock: publicity.open) and notices whose period has ended; passed and
// withdrawn lots in lists of their own with their reasons. Anyone may file an objection against
// a running notice (POST /lots/{id}/objections, no login). A table on a desk, cards on a phone
// (the same rows, each cell labelled by its column: css .pub-table). Refreshes every 15 s.
import { api, dateTime, el, lang, param, setupLang, t, yuan } from "./common.js";

const sessionId = param("session");
let data = { sold: [], passed: [], withdrawn: [], sessions: [] };

// this page's own texts (issue 13): the shared ones stay in common.js
const TEXTS = {
  zh: {
    current_list: "公示中", past_list: "公示期已结束", objection_title: "提出异议",
    objection_hint: "公示期内，任何单位或个人均可对成交公示提出异议，市场将核实处理并与您联系。",
    objection_none: "当前没有公示中的标的。", ob_lot: "异议标的", ob_name: "姓名或单位名称",
    ob_contact: "联系方式", ob_contact_hint: "电话或电子邮箱，用于市场回复", ob_text: "异议内容",
    ob_submit: "提交异议", ob_required: "请填写{label}", ob_done: "异议已提交（编号 {id}），市场将与您联系。",
    file_objection: "对此提出异议", defaulted: "买受人悔拍",
    record_title: "成交记录哈希", record_pending: "场次尚未结束",
    record_hint: "场次结束后公布其成交记录哈希链的头哈希，可用于核对出价回执与导出的成交记录。",
  },
  en: {
    current_list: "Notices running", past_list: "Notices ended", objection_title: "File an objection",
    objection_hint: "While a notice runs, anyone may object to it; the market checks and replies.",
    objection_none: "No notice is running now.", ob_lot: "Lot", ob_name: "Name or organisation",
    ob_contact: "Contact", ob_contact_hint: "phone or e-mail, for the market's reply",
    ob_text: "Objection", ob_submit: "Submit objection", ob_required: "Please fill in {label}",
    ob_done: "Objection received (no. {id}); the market will contact you.",
    file_objection: "Object to this", defaulted: "buyer defaulted",
    record_title: "Record hash", record_pending: "session not finished",
    record_hint: "Once a session ends, the head hash of its chained record is published here: "
      + "check bid receipts and exported records against it.",
  },
};

function r(key, vars = {}) {
  const text = TEXTS[lang()][key] ?? TEXTS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** A cell labelled with its column's heading (shown beside the value on a phone). */
function cell(label, attrs, ...children) {
  return el("td", { "data-label": t(label), ...attrs }, el("div", {}, ...children));
}

function titleCell(row) {
  // 协议成交 (a listing's one buyer, docs/formats.md "Listing"): its notice is 协议成交公示
  const deal = row.deal === "agreement"
    ? el("span", { class: "sub", "data-deal": "agreement", text: row.notice_title || "协议成交公示" })
    : null;
  return cell("title", {}, el("a", { href: `lot.html?id=${row.lot_id}`, text: row.title }),
    el("span", { class: "sub", text: `${row.market?.name || ""} · ${row.session_name || ""}` }),
    deal);
}

function day(iso) {
  return iso || "—";
}

function saleCells(row) {
  const p = row.publicity || {};
  return [
    titleCell(row),
    cell("buyer", {}, row.buyer?.name || "—",
      el("span", { class: "sub", text: `${t("paddle")} ${row.paddle}` }),
      row.defaulted ? el("span", { class: "sub bad", text: r("defaulted") }) : null),
    cell("deal_price", { class: "r num" }, yuan(row.amount_fen),
      el("span", { class: "sub", text: `${t("bids")} ${row.bid_count ?? ""}` })),
    cell("hammer_at", { class: "num" }, dateTime(row.hammer_at)),
    cell("publicity_period", { class: "num" }, t("period_value",
      { from: day(p.starts_on), to: day(p.ends_on), n: p.working_days ?? 5 })),
  ];
}

function chooseLot(lotId) {
  const select = document.getElementById("ob-lot");
  select.value = String(lotId);
  document.getElementById("objection-card").scrollIntoView({ block: "start" });
  document.getElementById("ob-name").focus();
}

function render() {
  document.querySelectorAll("[data-r]").forEach((node) => { node.textContent = r(node.dataset.r); });
  const current = data.sold.filter((row) => row.publicity?.open);
  const past = data.sold.filter((row) => !row.publicity?.open);
  const body = document.querySelector("#results tbody");
  body.textContent = "";
  for (const row of current) {
    body.append(el("tr", { "data-lot": String(row.lot_id) }, ...saleCells(row),
      cell("objection", { class: "objection" }, row.objection?.text || "",
        el("div", { class: "mt-8" }, el("button", { type: "button", text: r("file_objection"),
          "aria-label": `${r("file_objection")}：${row.title}`,
          onclick: () => chooseLot(row.lot_id) })))));
  }
  document.getElementById("empty").classList.toggle("hidden", current.length > 0);

  const ended = document.querySelector("#past tbody");
  ended.textContent = "";
  for (const row of past) ended.append(el("tr", { "data-lot": String(row.lot_id) }, ...saleCells(row)));
  document.getElementById("past-empty").classList.toggle("hidden", past.length > 0);

  const select = document.getElementById("ob-lot");
  const chosen = select.value;
  select.replaceChildren(...current.map((row) => el("option", {
    value: String(row.lot_id), text: `${row.title}（${row.buyer?.name || ""}）`,
  })));
  if (current.some((row) => String(row.lot_id) === chosen)) select.value = chosen;
  document.getElementById("objection-form").classList.toggle("hidden", !current.length);
  document.getElementById("objection-none").classList.toggle("hidden", current.length > 0);

  const passed = document.querySelector("#passed tbody");
  passed.textContent = "";
  for (const row of data.passed) {
    passed.append(el("tr", { "data-lot": String(row.lot_id) }, titleCell(row),
      cell("reason", {}, row.reason_text || row.reason || ""),
      cell("bids", { class: "r num" }, String(row.bid_count ?? 0)),
      cell("closed_time", { class: "num" }, dateTime(row.closed_at))));
  }
  document.getElementById("passed-empty").classList.toggle("hidden", data.passed.length > 0);

  const withdrawn = document.querySelector("#withdrawn tbody");
  withdrawn.textContent = "";
  for (const row of data.withdrawn) {
    withdrawn.append(el("tr", { "data-lot": String(row.lot_id) }, titleCell(row),
      cell("reason", {}, row.reason_text || row.reason || ""),
      cell("closed_time", { class: "num" }, dateTime(row.closed_at))));
  }
  document.getElementById("withdrawn-card").classList.toggle("hidden", !data.withdrawn.length);
  // the head hash of each finished session's chained record (issue 16)
  const heads = document.getElementById("record-heads");
  const sessions = data.sessions || [];
  heads.replaceChildren(...sessions.flatMap((s) => [
    el("dt", { text: s.session_name }),
    el("dd", { class: "hash", text: s.head_sha256 || r("record_pending") }),
  ]));
  document.getElementById("record-card").classList.toggle("hidden", !sessions.length);
  const name = [...data.sold, ...data.passed, ...data.withdrawn][0]?.session_name || "";
  document.getElementById("session-name").textContent = sessionId ? name : "";
}

async function load() {
  const error = document.getElementById("load-error");
  try {
    const q = sessionId ? `?session=${encodeURIComponent(sessionId)}` : "";
    data = await api(`/publicity${q}`);
    error.classList.add("hidden");
  } catch (err) {
    error.textContent = err.message;
    error.classList.remove("hidden");
  }
  render();
}

document.getElementById("objection-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const msg = document.getElementById("ob-msg");
  const fields = [["ob-name", "name"], ["ob-contact", "contact"], ["ob-text", "text"]];
  const body = {};
  for (const [id, key] of fields) {
    const input = document.getElementById(id);
    input.removeAttribute("aria-invalid");
    body[key] = input.value.trim();
    if (!body[key]) {
      input.setAttribute("aria-invalid", "true");
      msg.textContent = r("ob_required", { label: r(id.replace("-", "_")) });
      msg.className = "form-msg bad";
      input.focus();
      return;
    }
  }
  const lotId = document.getElementById("ob-lot").value;
  const button = document.getElementById("ob-submit");
  button.disabled = true;
  try {
    const answer = await api(`/lots/${encodeURIComponent(lotId)}/objections`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    msg.textContent = r("ob_done", { id: answer.id });
    msg.className = "form-msg good";
    document.getElementById("ob-text").value = "";
  } catch (err) {
    msg.textContent = err.message;
    msg.className = "form-msg bad";
  } finally {
    button.disabled = false;
  }
});

document.getElementById("refresh").addEventListener("click", load);
setupLang(document.getElementById("lang"), render);
setInterval(load, 15000);
load();
