// The auctioneer console: console.html?session=N (auctioneer token as #token=… or pasted).
//
// COMMANDS lists every console control (docs/protocol.md, `cmd.op`) with its shortcut and when it
// applies: O open, N next, W warn, H hammer, P pass, U undo, R reopen, F floor / phone bid (a
// small form), I increment (a small menu), Space pause / resume; A puts the cursor in the
// announcement field; 撤拍 has its reason field. H, P, U and 撤拍 ask first: the first press
// says what will happen, a second press of the same key (or a second click) within CONFIRM_MS
// does it. After a hammer, a pass or a withdrawal the current lot keeps showing its result
// until another lot opens (O opens the next lot in running order; R reopens it). A command the
// server refuses (lot_paused, unknown_paddle …) shows the reason in words.
//
// Staff frames (docs/protocol.md): presence (在线竞买人, 围观), reserve (已达 / 未达 / 无保留价)
// and missed_bid (bids that arrived after the close) are shown; the session's progress comes
// from GET /sessions/{id}/progress (报名人数, sold / passed / to go, hammer total), refreshed on
// every opening and close.
//
// After a server restart the open lot is taken from the room snapshot like any other state, so
// the auctioneer carries on where the room is; a live lot with no event for a while (a session
// interrupted by a restart, say) gets a notice saying it is still open and what can be done.
import {
  api, clock, duration, el, idleMs, nackText, paintConn, param, parseYuan, passReason, retrying,
  setupLang, sourceText, statusText, storeToken, t, takeToken, warningText, yuan,
} from "./common.js";
import { formatSummary } from "./lot-formats.js";
import { AuctionConnection, newKey, nextBid } from "./protocol.js";

const CONFIRM_MS = 4000;
const isOpen = (s) => s.status === "open";
const isLive = (s) => s.mode !== "timed";
const closedResult = (s) => s.status === "sold" || s.status === "passed";
const COMMANDS = [
  { op: "open", key: "o", label: "open_cmd", cls: "ok", when: (s) => s.status === "scheduled" },
  { op: "next", key: "n", label: "next_cmd", cls: "", when: (s) => s.status === "scheduled" },
  {
    op: "warn", key: "w", label: "warn_cmd", cls: "warn",
    when: (s) => isOpen(s) && isLive(s) && !s.paused_at && (s.warned || 0) < 3,
    args: (s) => ({ n: Math.min(3, (s.warned || 0) + 1) }),
  },
  {
    op: "hammer", key: "h", label: "hammer_cmd", cls: "primary", confirm: true,
    when: (s) => isOpen(s) && isLive(s) && !s.paused_at && s.bids > 0,
    what: (s) => t("will_hammer", { amount: yuan(s.high), paddle: s.paddle }),
  },
  {
    op: "pass", key: "p", label: "pass_cmd", cls: "", confirm: true,
    when: (s) => isOpen(s) && !s.paused_at,
    what: () => t("will_pass"),
  },
  {
    op: "undo", key: "u", label: "undo_cmd", cls: "", confirm: true,
    when: (s) => isOpen(s) && isLive(s) && s.bids > 0,
    what: (s) => t("will_undo", { amount: yuan(s.high), paddle: s.paddle }),
  },
  {
    op: "reopen", key: "r", label: "reopen_cmd", cls: "",
    when: (s, lot) => closedResult(s) && isLive(s) && !laterOpened(lot, s),
  },
  {
    op: "floor", key: "f", label: "floor_key_cmd", cls: "", local: () => openFloor(),
    when: (s) => isOpen(s) && !s.paused_at,
  },
  {
    op: "increment", key: "i", label: "increment_cmd", cls: "", local: () => openIncrement(),
    when: (s) => s.status === "scheduled" || isOpen(s),
  },
  { op: "pause", key: " ", kbd: "Space", label: "pause_cmd", cls: "", when: isOpen },
];
const WITHDRAW = {
  op: "withdraw", key: "withdraw", label: "withdraw_cmd", confirm: true,
  when: (s) => s.status === "scheduled" || s.status === "open",
  what: () => t("will_withdraw", { reason: $("withdraw-reason").value.trim() }),
  args: () => ({ reason: $("withdraw-reason").value.trim() }),
};
const ANNOUNCE = {
  op: "announce", key: "a", label: "announce_cmd",
  when: (s) => s.status === "scheduled" || s.status === "open",
  args: () => ({ text: $("announce-text").value.trim() }),
};
const $ = (id) => document.getElementById(id);
const sessionId = Number(param("session"));
let token = takeToken("staff");
const conn = new AuctionConnection({ token });
let session = null;
let lots = []; // HTTP lot objects in ordinal order
let selected = null; // lot id the commands act on
let follow = true; // selection follows the open lot / the result just given / the next lot
let shownResult = null; // lot closed while we watched: its result stays until another opens
let armed = null; // {op, lot, until}: the first press of a command that asks first
const log = [];
let feedback = null;
let progress = null; // GET /sessions/{id}/progress, when the server has it
let progressTimer = null;
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

function lotName(id) {
  const lot = lots.find((l) => l.id === id);
  return lot ? `${lot.ordinal}. ${lot.title}` : "";
}

function autoSelect() {
  if (!follow && selected !== null) return;
  const open = lots.find((l) => stateOf(l.id)?.status === "open");
  const next = lots.find((l) => stateOf(l.id)?.status === "scheduled");
  // no lot open: the result given last (also after a reload) stays until another lot opens
  let last = lots.find((l) => l.id === shownResult);
  for (const l of shownResult === null ? lots : []) {
    const at = stateOf(l.id)?.closed_at || 0;
    if (at && at > (last ? stateOf(last.id).closed_at : 0)) last = l;
  }
  const pick = open || last || next || lots[lots.length - 1];
  if (pick) selected = pick.id;
}

/** The next scheduled lot in running order after the selected one (else the first one left). */
function nextScheduled() {
  const idx = lots.findIndex((l) => l.id === selected);
  const ahead = lots.slice(idx + 1).concat(lots.slice(0, idx + 1));
  return ahead.find((l) => stateOf(l.id)?.status === "scheduled")?.id ?? null;
}

/** The lot a command acts on: the selected lot; O and N open the next lot once it has closed. */
function targetOf(cmd) {
  if (selected === null) return null;
  if (cmd.op !== "open" && cmd.op !== "next") return selected;
  // never a second lot while one is open: then O and N act on the selected lot (and refuse)
  if (lots.some((l) => stateOf(l.id)?.status === "open")) return selected;
  if (cmd.op === "next" || stateOf(selected)?.status !== "scheduled") return nextScheduled();
  return selected;
}

function addLog(text, kind = "") {
  log.unshift({ at: conn.now(), text, kind });
  if (log.length > 200) log.pop();
}

function setFeedback(text, kind = "") {
  feedback = { text, kind };
  render();
}

/** Whether another lot of the session was opened after this one closed (it is final then:
 * the server refuses a reopening with wrong_state). */
function laterOpened(lot, s) {
  const closed = s.closed_at || 0;
  return lots.some((l) => l.id !== lot && (stateOf(l.id)?.opened_at || 0) > closed);
}

async function run(cmd, via = "key") {
  const lot = targetOf(cmd);
  const s = lot !== null ? stateOf(lot) : null;
  let op = cmd.op === "next" ? "open" : cmd.op;
  let label = cmd.label;
  if (op === "pause" && s?.paused_at) {
    op = "resume";
    label = "resume_cmd";
  }
  if (!s || !cmd.when(s, lot)) {
    const why = s?.paused_at ? t("paused_banner") : statusText(s?.status || "scheduled");
    setFeedback(`${t(label)}: ${lot === null ? t("no_more_lots") : why}`, "bad");
    return;
  }
  if (cmd.local) {
    cmd.local();
    return;
  }
  const args = cmd.args ? cmd.args(s) : null;
  if (op === "withdraw" && !args.reason) return setFeedback(t("need_reason"), "bad");
  if (op === "announce" && !args.text) return setFeedback(t("need_text"), "bad");
  if (cmd.confirm) {
    const now = Date.now();
    if (!(armed && armed.op === op && armed.lot === lot && now < armed.until)) {
      const mine = { op, lot, until: now + CONFIRM_MS };
      armed = mine;
      const vars = { key: cmd.key.toUpperCase(), label: t(label), what: cmd.what(s) };
      setFeedback(t(via === "key" ? "confirm_again" : "confirm_click", vars), "warn");
      setTimeout(() => {
        if (armed === mine) {
          armed = null;
          feedback = null;
          render();
        }
      }, CONFIRM_MS);
      return;
    }
    armed = null;
  }
  await send(lot, op, label, args);
}

/** Send one command and say how it went (in words: lots by number and title, never ids). */
async function send(lot, op, label, args) {
  setFeedback(`${t(label)} … ${lotName(lot)}`);
  const waiting = feedback;
  const answer = await conn.command(lot, op, newKey(`c-${op}`), args);
  // an answer arriving after the next key was pressed never hides that key's question
  const say = (text, kind) => {
    if (feedback === waiting || !armed) feedback = { text, kind };
  };
  if (answer.t === "ack") {
    say(`${t(label)} ${t("ok")} · ${lotName(lot)}`, "good");
    addLog(`${t(label)} ${t("ok")} · ${lotName(lot)}`, "good");
    if (op === "announce") $("announce-text").value = "";
    if (op === "withdraw") $("withdraw-reason").value = "";
    if (op === "open") {
      follow = true;
      selected = lot;
    }
  } else {
    const message = nackText(answer);
    say(t("refused", { label: t(label), message }), "bad");
    addLog(`${t(label)} · ${lotName(lot)} ✗ ${message}`, "bad");
  }
  render();
  return answer;
}

// --- F: a floor or phone bid (paddle, amount in 元 → integer fen, source) --------------------

let floorLot = null;

function openFloor() {
  floorLot = selected;
  const s = stateOf(floorLot);
  $("floor-lot").textContent = `${lotName(floorLot)} · ${t("next_bid")} ${yuan(nextBid(s))}`;
  $("floor-paddle").value = "";
  $("floor-amount").value = yuan(nextBid(s), false);
  $("floor-error").textContent = "";
  $("floor-dlg").showModal();
  $("floor-paddle").focus();
}

async function submitFloor() {
  const paddle = Number($("floor-paddle").value.trim());
  const amount = parseYuan($("floor-amount").value);
  const source = $("floor-form").querySelector("input[name=floor-source]:checked")?.value
    || "floor";
  if (!Number.isInteger(paddle) || paddle <= 0 || paddle > 2 ** 31) {
    $("floor-error").textContent = t("need_paddle");
    $("floor-paddle").focus();
    return;
  }
  if (amount === null || amount <= 0) {
    $("floor-error").textContent = t("err_amount");
    $("floor-amount").focus();
    return;
  }
  $("floor-error").textContent = "";
  const label = source === "phone" ? "phone_cmd" : "floor_cmd";
  const answer = await send(floorLot, "floor", label, { paddle, amount, source });
  if (answer.t === "ack") $("floor-dlg").close();
  else $("floor-error").textContent = nackText(answer);
}

$("floor-form").addEventListener("submit", (e) => {
  e.preventDefault();
  submitFloor();
});
$("floor-cancel").addEventListener("click", () => $("floor-dlg").close());

// --- I: the increment menu (set / halve / double / reset) -------------------------------------

let incLot = null;

function openIncrement() {
  incLot = selected;
  $("inc-now").textContent = `${lotName(incLot)} · ${t("inc_now", { inc: yuan(stateOf(incLot).inc) })}`;
  $("inc-amount").value = "";
  $("inc-error").textContent = "";
  $("inc-dlg").showModal();
  $("inc-dlg").querySelector("button[data-inc]").focus();
}

async function increment(op, amount) {
  const args = op === "set" ? { op, amount } : { op };
  const label = { halve: "inc_half", double: "inc_double", reset: "inc_reset", set: "inc_set" }[op];
  $("inc-dlg").close(); // the answer (or the refusal, in words) is the command feedback
  await send(incLot, "increment", label, args);
}

for (const b of $("inc-dlg").querySelectorAll("button[data-inc]")) {
  b.addEventListener("click", () => increment(b.dataset.inc));
}
$("inc-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const amount = parseYuan($("inc-amount").value);
  if (amount === null || amount <= 0) {
    $("inc-error").textContent = t("need_inc");
    $("inc-amount").focus();
    return;
  }
  increment("set", amount);
});
$("inc-cancel").addEventListener("click", () => $("inc-dlg").close());
for (const dlg of [$("floor-dlg"), $("inc-dlg")]) {
  // the shortcuts work again at once: focus never stays on a field of a closed dialog
  dlg.addEventListener("close", () => { // dispatched later: the dialog may be open again
    if (!dlg.open && dlg.contains(document.activeElement)) document.activeElement.blur();
  });
}
$("inc-dlg").addEventListener("keydown", (e) => {
  if (e.target?.tagName === "INPUT" || e.ctrlKey || e.metaKey || e.altKey) return;
  const op = { 1: "halve", 2: "double", 3: "reset" }[e.key];
  if (op) {
    e.preventDefault();
    if (!e.repeat) increment(op);
  } else if (e.key.toLowerCase() === "s") {
    e.preventDefault();
    $("inc-amount").focus();
  }
});

function renderCommands() {
  const box = $("cmds");
  const s = selected !== null ? stateOf(selected) : null;
  if (!box.childElementCount) {
    for (const c of COMMANDS) {
      box.append(el("button", { type: "button", class: c.cls, "data-op": c.op,
        onclick: () => run(c, "click") }, el("span", { "data-i18n": c.label, text: t(c.label) }),
      " ", el("kbd", { text: c.kbd || c.key.toUpperCase() })));
    }
  }
  const allowed = conn.status === "open" && conn.welcome && conn.welcome.role !== "viewer";
  for (const b of box.querySelectorAll("button")) {
    const c = COMMANDS.find((x) => x.op === b.dataset.op);
    const lot = targetOf(c);
    const ts = lot !== null ? stateOf(lot) : null;
    b.disabled = !(allowed && ts && c.when(ts, lot));
    b.classList.toggle("armed", Boolean(armed && armed.op === c.op && armed.lot === lot));
    if (c.op === "pause") {
      const label = ts?.paused_at ? "resume_cmd" : "pause_cmd";
      const span = b.querySelector("span");
      span.dataset.i18n = label;
      span.textContent = t(label);
    }
  }
  $("withdraw-btn").disabled = !(allowed && s && WITHDRAW.when(s));
  $("withdraw-btn").classList.toggle("armed", armed?.op === "withdraw");
  $("announce-form").querySelector("button").disabled = !(allowed && s && ANNOUNCE.when(s));
  const fb = $("cmd-feedback");
  fb.textContent = feedback ? feedback.text : "";
  fb.className = `feedback ${feedback?.kind || ""}`;
}

function resultText(s) {
  if (s.status === "sold") return t("result_sold", { amount: yuan(s.high), paddle: s.paddle });
  if (s.status === "passed") return t("result_passed", { reason: passReason(s.reason) || "—" });
  if (s.status === "withdrawn") return t("result_withdrawn", { reason: s.reason || "—" });
  return "";
}

function renderLive(s) {
  const result = $("result");
  const text = s ? resultText(s) : "";
  result.textContent = text;
  result.className = `result ${s?.status || ""}${text ? "" : " hidden"}`;
  result.dataset.state = text ? s.status : "";
  const banner = $("banner");
  const open = s && s.status === "open";
  const state = open && s.paused_at ? "paused" : open && s.warned ? `warn-${s.warned}` : "";
  banner.textContent = state === "paused" ? t("paused_banner") : state ? warningText(s.warned) : "";
  banner.className = `live-banner ${state}${state ? "" : " hidden"}`;
  banner.dataset.state = state;
  const ann = $("announcement");
  const note = s && s.status !== "sold" && s.status !== "passed" && s.announcement
    ? s.announcement.text : "";
  ann.textContent = note; // text only, never markup
  ann.classList.toggle("hidden", !note);
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
  $("cur-inc-by").textContent = feed?.incBy === "auctioneer" ? t("inc_by_hand") : "";
  $("cur-bids").textContent = s ? String(s.bids || 0) : "";
  renderLive(s);
  renderRoom(feed);
  const body = $("ladder").tBodies[0];
  body.textContent = "";
  for (const b of feed ? feed.bids() : []) {
    // 场内 / 电话; 优先权 (R9), 委托 (a proxy's automatic bid), 报价 (a revealed sealed quote)
    let src = sourceText(b.source);
    if (b.preempt) src = t("preempt_bid");
    else if (b.auto) src = t("auto_bid");
    else if (b.sealed) src = t("sealed_quote");
    body.append(el("tr", {
      "data-seq": String(b.seq), "data-paddle": String(b.paddle),
      "data-source": b.source || "online", class: b.retracted ? "retracted" : "",
    }, el("td", { class: "num strong" }, b.paddle, // the spaces let the tags wrap
      src ? " " : null, src ? el("span", { class: `src src-${b.source}`, text: src }) : null,
      b.retracted ? " " : null,
      b.retracted ? el("span", { class: "tag-retracted", text: t("retracted") }) : null),
    el("td", { class: "r num" }, yuan(b.amount)), el("td", { class: "r num small" }, clock(b.at))));
  }
}

/** Presence (在线竞买人: the session's bidders connected; 围观: the lot's watchers), the reserve
 * indicator (never the amount) and 报名人数 from the session's progress. */
function renderRoom(feed) {
  const any = [...conn.lots.values()].find((f) => f.bidders !== null);
  const bidders = feed?.bidders ?? any?.bidders ?? null;
  $("online").textContent = bidders === null ? "—" : String(bidders);
  $("viewers").textContent = feed?.viewers === null || feed?.viewers === undefined
    ? "—" : String(feed.viewers);
  const reserve = $("reserve");
  const r = feed?.reserve || "";
  reserve.textContent = r ? t(`reserve_${r}`) : "—";
  reserve.className = `reserve ${r ? "rs-" + r : ""}`;
  reserve.dataset.reserve = r;
  $("registered").textContent = progress ? String(progress.registered) : "—";
}

/** Bids that reached the server after their lot had closed (missed_bid), newest first. */
function renderMissed() {
  const all = [];
  for (const lot of lots) {
    for (const m of feedOf(lot.id)?.missed || []) all.push({ ...m, lot });
  }
  all.sort((a, b) => b.at - a.at);
  const list = $("missed");
  list.textContent = "";
  for (const m of all.slice(0, 20)) {
    const late = (Math.max(0, Number(m.late_ms) || 0) / 1000).toFixed(1);
    list.append(el("li", { "data-paddle": String(m.paddle) },
      el("span", { class: "strong", text: t("missed_line",
        { paddle: m.paddle, amount: yuan(m.amount), late }) }),
      el("span", { class: "muted", text: ` · ${m.lot.ordinal}. ${m.lot.title} · ${clock(m.at)}` })));
  }
  $("missed-empty").classList.toggle("hidden", all.length > 0);
}

/** The session's progress: from GET /sessions/{id}/progress when it answers, else counted from
 * the rooms this console follows. */
function renderProgress() {
  const count = { scheduled: 0, open: 0, sold: 0, passed: 0, withdrawn: 0 };
  let total = 0;
  for (const lot of lots) {
    const s = stateOf(lot.id);
    if (s && s.status in count) count[s.status] += 1;
    if (s?.status === "sold") total += s.high || 0;
  }
  const p = progress?.lots;
  const n = (k) => String(p ? p[k] ?? 0 : count[k]);
  $("prog-sold").textContent = n("sold");
  $("prog-passed").textContent = n("passed");
  $("prog-withdrawn").textContent = n("withdrawn");
  $("prog-to-go").textContent = p ? String((p.scheduled || 0) + (p.open || 0))
    : String(count.scheduled + count.open);
  $("prog-total").textContent = yuan(progress ? progress.hammer_total_fen : total);
}

const STAFF = new Set(["auctioneer", "finance", "market_admin", "admin"]);

async function loadProgress() {
  if (!sessionId || !STAFF.has(conn.welcome?.role)) return;
  try {
    // with a pasted token, that token; with the staff member's own login, its cookie
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    progress = await api(`/sessions/${sessionId}/progress`, { headers });
  } catch {
    progress = null; // not allowed, or the server has no such route: count the rooms instead
  }
  render();
}

/** Refresh the progress now and once more shortly after (the hammer total may follow). */
function refreshProgress() {
  loadProgress();
  clearTimeout(progressTimer);
  progressTimer = setTimeout(loadProgress, 1500);
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
  // the format, its terms and state; a proxy is shown as active, never its maximum
  $("cur-format").textContent = formatSummary(s, conn.now(),
    selected !== null ? feedOf(selected)?.proxies : null);
  const box = $("cur-clock");
  const live = s && s.status === "open" && !(s.mode === "timed" && s.ends_at);
  $("cur-clock-label").textContent = live ? t("elapsed") : t("countdown");
  if (!s || s.status !== "open") {
    box.textContent = s && s.status !== "scheduled" ? t("ended") : "—";
  } else if (s.mode === "timed" && s.ends_at) {
    box.textContent = duration(s.ends_at - (s.paused_at || conn.now())); // stopped while paused
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
  // 后续标的: the lots after the current one in running order, with their status
  const next = $("next-lots");
  next.textContent = "";
  const idx = lots.findIndex((l) => l.id === selected);
  for (const lot of lots.slice(idx + 1, idx + 9)) {
    const st = stateOf(lot.id)?.status;
    next.append(el("li", { "data-lot": String(lot.id), "data-status": st || "" },
      `${lot.title} · ${yuan(lot.start_price_fen)} `,
      el("span", { class: `badge st-${st}`, text: statusText(st) })));
  }
  next.start = idx + 2;
  next.classList.toggle("hidden", !next.childElementCount);
  $("next-empty").classList.toggle("hidden", Boolean(next.childElementCount) || !lots.length);
}

function renderShortcuts() {
  const box = $("shortcuts");
  box.textContent = "";
  for (const c of COMMANDS) {
    const label = c.op === "pause" ? "pause_toggle" : c.label;
    box.append(el("div", {}, el("kbd", { text: c.kbd || c.key.toUpperCase() }),
      ` ${t(label)}${c.confirm ? " (×2)" : ""}`));
  }
  box.append(el("div", {}, el("kbd", { text: "A" }), ` ${t("announce_cmd")}`));
  box.append(el("div", {}, el("kbd", { text: "Esc" }), ` ${t("cancel")}`));
  box.append(el("div", {}, el("kbd", { text: "↑" }), " ", el("kbd", { text: "↓" }),
    ` ${t("select")} ${t("lot")}`));
}

function render() {
  paintConn($("conn"), conn.status);
  $("session-name").textContent = session ? session.name : "";
  $("login").classList.toggle("hidden", Boolean(token) && conn.status !== "unauthorized");
  autoSelect();
  renderCurrent();
  renderCommands();
  renderLots();
  renderMissed();
  renderProgress();
  renderClock();
  $("log").textContent = log.map((e) => `${clock(e.at)} ${e.text}`).join("\n");
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (document.querySelector("dialog[open]")) return; // the form or menu has the keys
  const tag = e.target?.tagName;
  const closed = e.target?.closest?.("dialog:not([open])"); // focus left in a closed form
  if (!closed && (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT")) return;
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
  if (e.key === "Escape" && armed) {
    armed = null;
    feedback = null;
    render();
    return;
  }
  if (e.key.toLowerCase() === "a") {
    e.preventDefault();
    $("announce-text").focus();
    return;
  }
  const cmd = COMMANDS.find((c) => c.key === e.key.toLowerCase());
  if (cmd) {
    e.preventDefault();
    if (!e.repeat) run(cmd, "key");
  }
});

$("announce-form").addEventListener("submit", (e) => {
  e.preventDefault();
  run(ANNOUNCE, "click");
});

$("withdraw-form").addEventListener("submit", (e) => {
  e.preventDefault();
  run(WITHDRAW, "click");
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
    const name = lotName(e.lot);
    const src = sourceText(ev.source);
    if (ev.kind === "bid") {
      addLog(`${name} · ${t("paddle")} ${ev.paddle} ${yuan(ev.amount)}${src ? ` (${src})` : ""}`);
    } else if (ev.kind === "sold" || ev.kind === "passed" || ev.kind === "withdrawn") {
      addLog(`${name} · ${resultText(e.feed.state)}`);
      if (follow) shownResult = e.lot; // keep showing the result until another lot opens
      refreshProgress();
    } else if (ev.kind === "opened" || ev.kind === "reopened") {
      addLog(`${name} · ${t(ev.kind === "opened" ? "open_cmd" : "reopened_log")}`);
      shownResult = null;
      refreshProgress();
    } else if (ev.kind === "warned") addLog(`${name} · ${warningText(ev.n)}`);
    else if (ev.kind === "announced") addLog(`${name} · ${t("announce_cmd")}: ${ev.text}`);
    else if (ev.kind === "paused") addLog(`${name} · ${t("paused_banner")}`);
    else if (ev.kind === "resumed") addLog(`${name} · ${t("resume_cmd")}`);
    else if (ev.kind === "bid_retracted") {
      addLog(`${name} · ${t("retract_log", { paddle: ev.paddle, amount: yuan(ev.amount) })}`);
    } else if (ev.kind === "increment_changed") {
      const by = ev.by === "auctioneer" ? t("inc_by_hand") : t("inc_by_table");
      addLog(`${name} · ${t("inc_changed", { inc: yuan(ev.inc) })} ${by}`);
    }
  } else if (e.type === "welcome") {
    loadProgress(); // 报名人数 and the session's progress, with this token
  } else if (e.type === "room" && e.frame === "missed_bid") {
    const m = e.msg;
    const late = (Math.max(0, Number(m.late_ms) || 0) / 1000).toFixed(1);
    addLog(`${lotName(e.lot)} · ${t("missed_log", { paddle: m.paddle, amount: yuan(m.amount), late })}`,
      "bad");
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
