// /admin/: who I am (GET /auth/me) and the markets of my scope, each with its sessions
// (GET /sessions?market=: drafts too, marked 草稿, for the staff of their market), their status
// and links; 新建场次 only for those who may manage
// sessions (docs/roles.md).
import { el, dateTime } from "./common.js";
import { $, a, call, errText, may, myMarkets, roleText, say, sessionLink, setupPage, whoAmI }
  from "./admin.js";

let me = null;
let markets = [];
const sessions = new Map(); // market code → sessions

function paint() {
  if (!me) return;
  const name = me.account?.person_name || me.account?.username || me.subject || "";
  $("me-line").textContent = `${name} · ${roleText(me.role)}`;
  $("logout").classList.remove("hidden");
  const home = markets.find((m) => m.id === me.market_id);
  $("whoami").textContent = a("whoami", { name, role: roleText(me.role),
    market: home ? `${home.name} (${home.code})` : a("all_markets") });
  const box = $("markets");
  if (!markets.length) {
    box.replaceChildren(el("p", { class: "muted", text: a("no_markets") }));
    return;
  }
  box.replaceChildren(...markets.map((m) => {
    const list = sessions.get(m.code) || [];
    const head = el("div", { class: "row spread" },
      el("h2", { id: `m-${m.code}`, text: `${m.name} (${m.code})` }),
      may(me.role, "manage")
        ? el("a", { class: "btn primary", href: `session-new.html?market=${m.code}`,
          text: a("new_session") })
        : null);
    const rows = list.map((s) => el("tr", {},
      el("td", {}, el("a", { href: sessionLink(s.id), text: s.name })),
      el("td", { text: a(`season_${s.season}`) }),
      el("td", { text: a(`mode_${s.mode}`) }),
      el("td", { text: dateTime(s.starts_at) }),
      el("td", { class: "r", text: String(s.lot_count) }),
      el("td", {}, el("span", { class: `badge ss-${s.status}`, text: a(`ss_${s.status}`) }),
        s.published === false ? el("span", { class: "badge pub-draft", text: a("pub_draft") })
          : null),
      el("td", {}, el("a", { href: sessionLink(s.id), "aria-label": `${a("open")} ${s.name}`,
        text: a("open") }))));
    const table = list.length
      ? el("div", { class: "scroll-x" }, el("table", { class: "admin-table" },
        el("thead", {}, el("tr", {}, ...["session_name", "season", "mode", "starts_at",
          "lot_count", "status", "open"].map((k) => el("th", { text: a(k) })))),
        el("tbody", {}, ...rows)))
      : el("p", { class: "muted", text: a("no_sessions") });
    return el("section", { class: "card", "aria-labelledby": `m-${m.code}` }, head, table);
  }));
}

async function load() {
  try {
    me = await whoAmI();
    if (!me) return;
    markets = await myMarkets(me);
    await Promise.all(markets.map(async (m) => {
      const answer = await call(`/sessions?market=${m.code}`);
      // the public list may roll up: keep each session under its own market
      sessions.set(m.code, answer.sessions.filter((s) => !s.market_code || s.market_code === m.code));
    }));
    paint();
  } catch (err) {
    say($("msg"), () => errText(err), "bad");
  }
}

setupPage(paint);
load();
