// The catalogue: sessions → lots, with links to the bidder page, console, screen and results.
import { api, dateTime, el, setupLang, statusText, t, yuan } from "./common.js";

const box = document.getElementById("sessions");
let sessions = [];
const lotsOf = new Map();

function render() {
  box.textContent = "";
  if (!sessions.length) {
    box.append(el("p", { class: "muted", text: t("none") }));
    return;
  }
  for (const s of sessions) {
    const lots = lotsOf.get(s.id) || [];
    const card = el("section", { class: "card", "data-session": String(s.id) },
      el("div", { class: "row small muted" },
        el("span", { text: dateTime(s.starts_at) }),
        el("span", { class: "badge", text: t(`mode_${s.mode}`) }),
        el("span", { text: s.market_code || "" }),
        el("span", { text: t("lots_of", { n: s.lot_count ?? lots.length }) })),
      el("h2", { text: s.name }),
      el("div", { class: "row small" },
        el("a", { href: `screen.html?session=${s.id}`, text: t("screen") }),
        el("a", { href: `results.html?session=${s.id}`, text: t("results") }),
        el("a", { href: `console.html?session=${s.id}`, text: t("console") })));
    const table = el("table", { class: "small" });
    for (const lot of lots) {
      table.append(el("tr", { "data-lot": String(lot.id) },
        el("td", { class: "num", text: String(lot.ordinal) }),
        el("td", {}, el("a", { href: `lot.html?id=${lot.id}`, text: lot.title }),
          el("div", { class: "muted", text: [lot.result_type, lot.technology_field, lot.transaction_mode].filter(Boolean).join(" · ") })),
        el("td", { class: "r num", text: yuan(lot.start_price_fen) }),
        el("td", { class: "r" }, el("span", { class: `badge st-${lot.status}`, text: statusText(lot.status) }))));
    }
    card.append(table);
    box.append(card);
  }
}

async function load() {
  try {
    sessions = (await api("/sessions")).sessions;
    sessions.sort((a, b) => b.id - a.id);
    await Promise.all(sessions.slice(0, 30).map(async (s) => {
      lotsOf.set(s.id, (await api(`/sessions/${s.id}/lots`)).lots);
    }));
  } catch (err) {
    box.textContent = err.message;
    return;
  }
  render();
}

setupLang(document.getElementById("lang"), render);
load();
