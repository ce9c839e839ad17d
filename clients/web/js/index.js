// The catalogue: sessions → lots, with links to the bidder page, console, screen and results.
//
// A running session shows its open lot as the room has it in Redis (``lot.live`` from
// GET /sessions/{id}/lots): price, leading paddle, bids; a live lot with no event for a while —
// typically a session interrupted by a server restart — says so: it can be resumed from the
// console, because its room is still open.
import {
  api, clock, dateTime, el, idleMs, retrying, setupLang, statusText, t, yuan,
} from "./common.js";

const box = document.getElementById("sessions");
let sessions = [];
const lotsOf = new Map(); // session id → { lots, serverTime, fetchedAt }

function liveStrip(session, entry) {
  const { lots, serverTime, fetchedAt } = entry;
  const open = lots.filter((l) => l.live && l.live.status === "open");
  if (!open.length) return null;
  const now = serverTime ? serverTime + (Date.now() - fetchedAt) : 0;
  const strip = el("div", { class: "live-strip small", role: "status",
    "data-live-session": String(session.id) });
  for (const lot of open) {
    const live = lot.live;
    const price = live.bids > 0
      ? `${t("current_price")} ${yuan(live.high)} · ${t("leader")} ${live.paddle}`
      : `${t("start_price")} ${yuan(live.start)}`;
    const line = el("div", { "data-live-lot": String(lot.id) },
      el("strong", { text: `● ${t("now_on")} ` }),
      el("a", { href: `lot.html?id=${lot.id}`, text: `${lot.ordinal}. ${lot.title}` }),
      ` · ${price} · ${t("bids")} ${live.bids}`);
    if (live.mode === "timed" && live.ends_at) {
      line.append(` · ${t("ends_at")} ${clock(live.ends_at)}`);
    }
    const idle = now && live.last_event_at ? now - live.last_event_at : 0;
    if (live.mode === "live" && idle >= idleMs()) {
      line.append(el("div", { class: "idle", "data-idle": "true",
        text: t("idle_for", { min: Math.max(1, Math.floor(idle / 60000)) }) }));
    }
    strip.append(line);
  }
  return strip;
}

function render() {
  box.textContent = "";
  if (!sessions.length) {
    box.append(el("p", { class: "muted", text: t("none") }));
    return;
  }
  for (const s of sessions) {
    const entry = lotsOf.get(s.id) || { lots: [], serverTime: 0, fetchedAt: 0 };
    const lots = entry.lots;
    const card = el("section", { class: "card", "data-session": String(s.id),
      "aria-label": s.name },
      el("div", { class: "row small muted" },
        el("span", { text: dateTime(s.starts_at) }),
        el("span", { class: `badge ss-${s.status}`, "data-status": s.status,
          text: t(`ss_${s.status}`) }),
        el("span", { class: "badge", text: t(`mode_${s.mode}`) }),
        el("span", { text: s.market_code || "" }),
        el("span", { text: t("lots_of", { n: s.lot_count ?? lots.length }) })),
      el("h2", { text: s.name }));
    const strip = s.status === "running" ? liveStrip(s, entry) : null;
    if (strip) card.append(strip);
    card.append(el("div", { class: "row small" },
      el("a", { href: `screen.html?session=${s.id}`, text: t("screen") }),
      el("a", { href: `results.html?session=${s.id}`, text: t("results") }),
      el("a", { href: `console.html?session=${s.id}`, text: t("console") })));
    const table = el("table", { class: "small" });
    for (const lot of lots) {
      const status = lot.live?.status || lot.status; // the room is ahead of the catalogue
      table.append(el("tr", { "data-lot": String(lot.id) },
        el("td", { class: "num", text: String(lot.ordinal) }),
        el("td", {}, el("a", { href: `lot.html?id=${lot.id}`, text: lot.title }),
          el("div", { class: "muted", text: [lot.result_type, lot.technology_field, lot.transaction_mode].filter(Boolean).join(" · ") })),
        el("td", { class: "r num", text: yuan(lot.start_price_fen) }),
        el("td", { class: "r" }, el("span", { class: `badge st-${status}`, text: statusText(status) }))));
    }
    card.append(table);
    box.append(card);
  }
}

async function load() {
  sessions = (await api("/sessions")).sessions;
  sessions.sort((a, b) => b.id - a.id);
  await Promise.all(sessions.slice(0, 30).map(async (s) => {
    const answer = await api(`/sessions/${s.id}/lots`);
    lotsOf.set(s.id, { lots: answer.lots, serverTime: answer.server_time || 0,
      fetchedAt: Date.now() });
  }));
}

setupLang(document.getElementById("lang"), render);
retrying(load, (err, s) => {
  box.textContent = t("retrying", { message: err.message, s });
}).then(render, (err) => {
  box.textContent = err.message;
});
