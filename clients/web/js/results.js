// 成交公示: results.html (all sessions) or results.html?session=N; refreshes every 15 s.
import { api, dateTime, el, param, setupLang, t, yuan } from "./common.js";

const sessionId = param("session");
let results = [];
const names = new Map();

function render() {
  const body = document.querySelector("#results tbody");
  body.textContent = "";
  for (const r of results) {
    body.append(el("tr", { "data-lot": String(r.lot_id) },
      el("td", { class: "small", text: names.get(r.session_id) || String(r.session_id) }),
      el("td", {}, el("a", { href: `lot.html?id=${r.lot_id}`, text: r.title })),
      el("td", { class: "r num", text: yuan(r.amount_fen) }),
      el("td", { class: "r num", text: String(r.paddle) }),
      el("td", { class: "r num", text: String(r.bid_count ?? "") }),
      el("td", { class: "r num small", text: dateTime(r.hammer_at) })));
  }
  document.getElementById("empty").classList.toggle("hidden", results.length > 0);
  if (sessionId) document.getElementById("session-name").textContent = names.get(Number(sessionId)) || "";
}

async function load() {
  try {
    const q = sessionId ? `?session=${encodeURIComponent(sessionId)}` : "";
    results = (await api(`/results${q}`)).results;
    const sessions = (await api("/sessions")).sessions;
    for (const s of sessions) names.set(s.id, s.name);
  } catch (err) {
    document.getElementById("empty").textContent = err.message;
  }
  render();
}

document.getElementById("refresh").addEventListener("click", load);
setupLang(document.getElementById("lang"), render);
setInterval(load, 15000);
load();
