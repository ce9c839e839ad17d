// The auctioneer console: console.html?session=N (auctioneer token as #token=… or pasted).
//
// COMMANDS lists every console command the engine supports (docs/protocol.md, `cmd.op`). The
// LATER list holds the commands the engine does not have yet: their buttons and shortcuts are
// laid out but disabled; when the engine gains one, move it to COMMANDS (same shape).
//
// After a server restart the open lot is taken from the room snapshot like any other state, so
// the auctioneer carries on where the room is; a live lot with no event for a while (a session
// interrupted by a restart, say) gets a notice saying it is still open and what can be done.
import {
  api, clock, duration, el, idleMs, paintConn, param, passReason, retrying, setupLang,
  statusText, storeToken, t, takeToken, yuan,
} from "./common.js";
import { AuctionConnection, newKey, nextBid } from "./protocol.js";

const COMMANDS = [
  { op: "open", key: "o", label: "open_cmd", cls: "ok", when: (s) => s.status === "scheduled" },
  {
    op: "hammer", key: "h", label: "hammer_cmd", cls: "primary",
    when: (s) => s.status === "open" && s.mode === "live" && s.bids > 0,
  },
  { op: "pass", key: "p", label: "pass_cmd", cls: "", when: (s) => s.status === "open" },
];
const LATER = [
  { op: "warn", key: "w", label: "warn_cmd" },
  { op: "undo", key: "u", label: "undo_cmd" },
  { op: "floor", key: "f", label: "floor_cmd" },
  { op: "phone", key: "t", label: "phone_cmd" },
  { op: "inc_half", key: "-", label: "inc_half" },
  { op: "inc_double", key: "+", label: "inc_double" },
];

const $ = (id) => document.getElementById(id);
const sessionId = Number(param("session"));
let token = takeToken("staff");
const conn = new AuctionConnection({ token });
let session = null;
let lots = []; // HTTP lot objects in ordinal order
let selected = null; // lot id the commands act on
let follow = true; // selection follows the open lot / the next scheduled lot
const log = [];
let feedback = null;
window.auctionDebug = { conn, sessionId };

function feedOf(id) {
  return conn.lot(id);
}

function stateOf(id) {
  const f = feedOf(id);
  if (f?.state) return f.state;
  const lot = lots.find((l) => l.id === id);
  return lot ? { status: lot.status, bids: 0, start: lot.start_price_fen, inc: lot.increment_fen,
    high: 0, paddle: 0, mode: session?.mode } : null;
}

function autoSelect() {
  if (!follow && selected !== null) return;
  const open = lots.find((l) => stateOf(l.id)?.status === "open");
  const next = lots.find((l) => stateOf(l.id)?.status === "scheduled");
  const pick = open || next || lots[lots.length - 1];
  if (pick) selected = pick.id;
}

function addLog(text, kind = "") {
  log.unshift({ at: conn.now(), text, kind });
  if (log.length > 200) log.pop();
}

async function run(op) {
  const cmd = COMMANDS.find((c) => c.op === op);
  if (!cmd || selected === null) return;
  const s = stateOf(selected);
  if (!s || !cmd.when(s)) {
    feedback = { text: `${t(cmd.label)}: ${statusText(s?.status || "scheduled")}`, kind: "bad" };
    render();
    return;
  }
  const lot = selected;
  const title = lots.find((l) => l.id === lot)?.title || lot;
  feedback = { text: `${t(cmd.label)} … ${title}`, kind: "" };
  render();
  const answer = await conn.command(lot, op, newKey(`c-${op}`));
  if (answer.t === "ack") {
    feedback = { text: `${t(cmd.label)} ${t("ok")} · #${lot} · seq ${answer.seq}`, kind: "good" };
    addLog(`${t(cmd.label)} #${lot} → seq ${answer.seq}`, "good");
    follow = true;
  } else {
    feedback = { text: `${t(cmd.label)}: ${answer.message || answer.code}`, kind: "bad" };
    addLog(`${t(cmd.label)} #${lot} ✗ ${answer.code}`, "bad");
  }
  render();
}

function renderCommands() {
  const box = $("cmds");
  const s = selected !== null ? stateOf(selected) : null;
  if (!box.childElementCount) {
    for (const c of COMMANDS) {
      box.append(el("button", { type: "button", class: c.cls, "data-op": c.op,
        onclick: () => run(c.op) }, el("span", { "data-i18n": c.label, text: t(c.label) }), " ",
      el("kbd", { text: c.key.toUpperCase() })));
    }
    const later = $("cmds-later");
    for (const c of LATER.filter((x) => x.op === "warn" || x.op === "undo")) {
      later.append(el("button", { type: "button", disabled: true, "data-op": c.op,
        title: t("not_yet") }, el("span", { "data-i18n": c.label, text: t(c.label) }), " ",
      el("kbd", { text: c.key.toUpperCase() })));
    }
  }
  const allowed = conn.status === "open" && conn.welcome && conn.welcome.role !== "viewer";
  for (const b of box.querySelectorAll("button")) {
    const c = COMMANDS.find((x) => x.op === b.dataset.op);
    b.disabled = !(allowed && s && c.when(s));
  }
  const fb = $("cmd-feedback");
  fb.textContent = feedback ? feedback.text : "";
  fb.className = `feedback ${feedback?.kind || ""}`;
}

function renderCurrent() {
  const lot = lots.find((l) => l.id === selected);
  const s = selected !== null ? stateOf(selected) : null;
  const feed = selected !== null ? feedOf(selected) : null;
  $("cur-title").textContent = lot ? `${lot.ordinal}. ${lot.title}` : t("no_current");
  $("cur-title").dataset.lot = lot ? String(lot.id) : "";
  $("cur-status").textContent = s ? statusText(s.status) : "";
  $("cur-status").className = `badge st-${s?.status || ""}`;
  $("cur-status").dataset.status = s?.status || "";
  $("cur-mode").textContent = s?.mode ? t(`mode_${s.mode}`) : "";
  $("asking").textContent = s && (s.status === "open" || s.status === "scheduled")
    ? yuan(nextBid(s)) : "—";
  $("cur-high").textContent = s && s.bids > 0 ? yuan(s.high) : "—";
  $("cur-leader").textContent = s?.paddle ? String(s.paddle) : "—";
  $("cur-start").textContent = s ? yuan(s.start) : "";
  $("cur-inc").textContent = s ? yuan(s.inc) : "";
  $("cur-bids").textContent = s ? String(s.bids || 0) : "";
  $("online").title = t("not_yet");
  const body = $("ladder").tBodies[0];
  body.textContent = "";
  for (const b of feed ? feed.bids() : []) {
    body.append(el("tr", { "data-seq": String(b.seq), "data-paddle": String(b.paddle) },
      el("td", { class: "num strong" }, b.paddle),
      el("td", { class: "r num" }, yuan(b.amount)), el("td", { class: "r num small" }, clock(b.at))));
  }
}

/** Server ms of the last thing that happened on the lot: its opening or its latest bid. */
function lastActivity(id, s) {
  const bids = feedOf(id)?.bids() || [];
  return Math.max(s.opened_at || 0, ...bids.map((b) => b.at || 0));
}

function renderIdle(s) {
  const box = $("idle");
  const last = s && s.status === "open" && s.mode === "live" ? lastActivity(selected, s) : 0;
  const idle = last && conn.status === "open" ? conn.now() - last >= idleMs() : false;
  box.classList.toggle("hidden", !idle);
  box.dataset.idle = idle ? "true" : "false";
  if (idle) box.textContent = t("idle_console", { time: clock(last) });
}

function renderClock() {
  const s = selected !== null ? stateOf(selected) : null;
  renderIdle(s);
  const box = $("cur-clock");
  const live = s && s.status === "open" && !(s.mode === "timed" && s.ends_at);
  $("cur-clock-label").textContent = live ? t("elapsed") : t("countdown");
  if (!s || s.status !== "open") {
    box.textContent = s?.status === "passed" ? passReason(s.reason) || t("ended") : "—";
  } else if (s.mode === "timed" && s.ends_at) {
    box.textContent = duration(s.ends_at - conn.now());
  } else if (s.opened_at) {
    box.textContent = `+${duration(conn.now() - s.opened_at)}`; // time since opening
  }
}

function renderLots() {
  const body = $("lots").tBodies[0];
  body.textContent = "";
  const open = lots.find((l) => stateOf(l.id)?.status === "open");
  for (const lot of lots) {
    const s = stateOf(lot.id);
    const cls = [lot.id === selected ? "sel" : "", open && lot.id === open.id ? "cur" : ""];
    body.append(el("tr", {
      class: cls.join(" ").trim(), "data-lot": String(lot.id),
      onclick: () => {
        selected = lot.id;
        follow = false;
        render();
      },
    }, el("td", { text: String(lot.ordinal) }), el("td", { text: lot.title }),
    el("td", {}, el("span", { class: `badge st-${s?.status}`, text: statusText(s?.status) })),
    el("td", { class: "r num", text: s?.bids ? `${yuan(s.high, false)} / ${s.paddle}` : "" })));
  }
  const next = $("next-lots");
  next.textContent = "";
  const idx = lots.findIndex((l) => l.id === selected);
  for (const lot of lots.slice(idx + 1).filter((l) => stateOf(l.id)?.status === "scheduled")
    .slice(0, 5)) {
    next.append(el("li", {}, `${lot.title} · ${yuan(lot.start_price_fen)}`));
  }
  if (!next.childElementCount) next.append(el("li", { class: "muted", text: t("none") }));
}

function renderShortcuts() {
  const box = $("shortcuts");
  box.textContent = "";
  for (const c of COMMANDS) {
    box.append(el("div", {}, el("kbd", { text: c.key.toUpperCase() }), ` ${t(c.label)}`));
  }
  box.append(el("div", {}, el("kbd", { text: "↑" }), " ", el("kbd", { text: "↓" }),
    ` ${t("select")} ${t("lot")}`));
  for (const c of LATER) {
    box.append(el("div", { class: "muted" }, el("kbd", { text: c.key.toUpperCase() }),
      ` ${t(c.label)} (${t("not_yet")})`));
  }
}

function render() {
  paintConn($("conn"), conn.status);
  $("session-name").textContent = session ? session.name : "";
  $("login").classList.toggle("hidden", Boolean(token) && conn.status !== "unauthorized");
  autoSelect();
  renderCurrent();
  renderCommands();
  renderLots();
  renderClock();
  $("log").textContent = log.map((e) => `${clock(e.at)} ${e.text}`).join("\n");
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = e.target?.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    const i = lots.findIndex((l) => l.id === selected);
    const j = Math.max(0, Math.min(lots.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)));
    if (lots[j]) {
      selected = lots[j].id;
      follow = false;
      render();
    }
    e.preventDefault();
    return;
  }
  const cmd = COMMANDS.find((c) => c.key === e.key.toLowerCase());
  if (cmd) {
    e.preventDefault();
    run(cmd.op);
  }
});

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = $("token").value.trim();
  if (!value) return;
  token = value;
  storeToken("staff", token);
  $("token").value = "";
  conn.setToken(token);
});

conn.on((e) => {
  if (e.type === "unauthorized") {
    token = null;
    storeToken("staff", null);
    $("notice").textContent = t("conn_unauthorized");
    $("notice").className = "notice bad";
    conn.setToken(null);
  } else if (e.type === "lot" && e.reason === "event" && e.ev) {
    const ev = e.ev;
    const title = lots.find((l) => l.id === e.lot)?.ordinal ?? e.lot;
    if (ev.kind === "bid") addLog(`#${title} ${t("paddle")} ${ev.paddle} ${yuan(ev.amount)}`);
    else if (ev.kind === "sold") addLog(`#${title} ${t("st_sold")} ${ev.paddle} ${yuan(ev.amount)}`);
    else if (ev.kind === "passed") addLog(`#${title} ${t("st_passed")} ${passReason(ev.reason)}`);
    else if (ev.kind === "opened") addLog(`#${title} ${t("open_cmd")}`);
  } else if (e.type === "notice" && e.code === "state_replaced") {
    $("notice").textContent = t("state_replaced");
    $("notice").className = "notice";
  }
  render();
});

setupLang($("lang"), () => {
  renderShortcuts();
  render();
});
setInterval(renderClock, 250);

async function load() {
  if (!sessionId) {
    $("cur-title").textContent = "?session=";
    return;
  }
  $("screen-link").href = `screen.html?session=${sessionId}`;
  // the server may be restarting: keep trying rather than leave a dead console
  try {
    await retrying(async () => {
      session = await api(`/sessions/${sessionId}`);
      lots = (await api(`/sessions/${sessionId}/lots`)).lots;
    }, (err, s) => {
      $("cur-title").textContent = t("retrying", { message: err.message, s });
    });
  } catch (err) {
    $("cur-title").textContent = err.message;
    return;
  }
  for (const lot of lots.slice(0, 64)) conn.watch(lot.id);
  render();
  conn.connect();
}

render();
load();
