// 成交公示 on GET /api/v1/publicity: results.html (all sessions) or results.html?session=N.
// Each sold lot with its 受让方 (an enterprise's name; a natural person's masked by the server),
// price, paddle, hammer time, 公示期 and the objection channel; passed and withdrawn lots in
// lists of their own with their reasons. A table on a desk, cards on a phone (the same rows,
// each cell labelled by its column: css .pub-table). Refreshes every 15 s.
import { api, dateTime, el, param, setupLang, t, yuan } from "./common.js";

const sessionId = param("session");
let data = { sold: [], passed: [], withdrawn: [] };

/** A cell labelled with its column's heading (shown beside the value on a phone). */
function cell(label, attrs, ...children) {
  return el("td", { "data-label": t(label), ...attrs }, el("div", {}, ...children));
}

function titleCell(r) {
  return cell("title", {}, el("a", { href: `lot.html?id=${r.lot_id}`, text: r.title }),
    el("span", { class: "sub", text: `${r.market?.name || ""} · ${r.session_name || ""}` }));
}

function day(iso) {
  return iso || "—";
}

function render() {
  const body = document.querySelector("#results tbody");
  body.textContent = "";
  for (const r of data.sold) {
    const p = r.publicity || {};
    body.append(el("tr", { "data-lot": String(r.lot_id) },
      titleCell(r),
      cell("buyer", {}, r.buyer?.name || "—",
        el("span", { class: "sub", text: `${t("paddle")} ${r.paddle}` })),
      cell("deal_price", { class: "r num" }, yuan(r.amount_fen),
        el("span", { class: "sub", text: `${t("bids")} ${r.bid_count ?? ""}` })),
      cell("hammer_at", { class: "num" }, dateTime(r.hammer_at)),
      cell("publicity_period", { class: "num" }, t("period_value",
        { from: day(p.starts_on), to: day(p.ends_on), n: p.working_days ?? 5 })),
      cell("objection", { class: "objection" }, r.objection?.text || "")));
  }
  document.getElementById("empty").classList.toggle("hidden", data.sold.length > 0);

  const passed = document.querySelector("#passed tbody");
  passed.textContent = "";
  for (const r of data.passed) {
    passed.append(el("tr", { "data-lot": String(r.lot_id) }, titleCell(r),
      cell("reason", {}, r.reason_text || r.reason || ""),
      cell("bids", { class: "r num" }, String(r.bid_count ?? 0)),
      cell("closed_time", { class: "num" }, dateTime(r.closed_at))));
  }
  document.getElementById("passed-empty").classList.toggle("hidden", data.passed.length > 0);

  const withdrawn = document.querySelector("#withdrawn tbody");
  withdrawn.textContent = "";
  for (const r of data.withdrawn) {
    withdrawn.append(el("tr", { "data-lot": String(r.lot_id) }, titleCell(r),
      cell("reason", {}, r.reason_text || r.reason || ""),
      cell("closed_time", { class: "num" }, dateTime(r.closed_at))));
  }
  document.getElementById("withdrawn-card").classList.toggle("hidden", !data.withdrawn.length);
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

document.getElementById("refresh").addEventListener("click", load);
setupLang(document.getElementById("lang"), render);
setInterval(load, 15000);
load();
