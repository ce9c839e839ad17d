// The bidder page: lot.html?id=N. The bid credential comes from the bidder's own login (username
// and password: the page logs in, finds the registration of this lot's session and takes its
// credential; the login token itself is not kept), or as #token=… or pasted.
import {
  api, clock, duration, el, nackText, paintConn, param, parseYuan, passReason, retrying,
  setupLang, sourceText, statusText, storeToken, t, takeToken, warningText, yuan,
} from "./common.js";
import { AuctionConnection, newKey, nextBid } from "./protocol.js";

const LARGE_JUMP_STEPS = 5; // a bid this many increments above the next bid asks first
const $ = (id) => document.getElementById(id);

const lotId = Number(param("id"));
let info = null; // the lot from the HTTP API
let session = null;
let token = takeToken("bidder");
const conn = new AuctionConnection({ token });
const feed = conn.watch(lotId);
let notice = null; // {key, kind}
let feedback = null; // {text, kind}
let busy = false;
window.auctionDebug = { conn, lotId, feed };

function myPaddle() {
  const w = conn.welcome;
  return w && w.role === "bidder" ? w.paddle : null;
}

function mayBid() {
  const w = conn.welcome;
  if (!w || w.role !== "bidder") return false;
  const sess = feed.state?.session || info?.session_id;
  return !sess || !w.session || w.session === sess;
}

function showNotice(key, kind = "", vars = {}) {
  notice = { key, kind, vars };
  render();
}

function renderStanding(s) {
  const box = $("standing");
  const mine = myPaddle();
  let text = "";
  let cls = "neutral";
  let state = "none";
  if (!s) {
    text = "";
  } else if (s.status === "sold") {
    cls = "sold";
    state = mine && s.paddle === mine ? "won" : "sold";
    text = state === "won" ? t("won") : t("sold_to", { paddle: s.paddle });
  } else if (s.status === "passed") {
    cls = "passed";
    state = "passed";
    text = `${t("passed_text")} ${s.reason ? "· " + passReason(s.reason) : ""}`;
  } else if (s.status === "withdrawn") {
    cls = "passed";
    state = "withdrawn";
    text = `${t("withdrawn_text")}${s.reason ? " · " + s.reason : ""}`;
  } else if (mine && s.status === "open") {
    const iBid = feed.standing().some((b) => b.paddle === mine);
    if (s.bids > 0 && s.paddle === mine) {
      cls = "leading";
      state = "leading";
      text = t("leading");
    } else if (iBid) {
      cls = "outbid";
      state = "outbid";
      text = t("outbid");
    } else {
      text = t("not_bidding");
    }
  } else if (s.status === "scheduled") {
    text = t("not_open_yet");
  }
  box.textContent = text;
  box.className = `standing ${cls}${text ? "" : " hidden"}`;
  box.dataset.state = state;
}

function renderQuick(s) {
  const quick = $("quick");
  quick.textContent = "";
  const next = nextBid(s);
  const enabled = s && s.status === "open" && !s.paused_at && mayBid()
    && !(s.bids > 0 && s.paddle === myPaddle());
  for (let k = 0; k < 3; k++) {
    const amount = next + k * (s?.inc || 0);
    const label = k === 0 ? t("next_bid") : `+${k} × ${t("increment")}`;
    const b = el("button", {
      type: "button", class: k === 0 ? "primary" : "", "data-amount": String(amount),
      disabled: !enabled || busy || !s, onclick: () => placeBid(amount),
    }, yuan(amount, false), el("span", { class: "sub", text: label }));
    quick.append(b);
  }
  for (const b of $("custom").querySelectorAll("button, input")) b.disabled = !enabled;
}

function renderLadder(s) {
  const body = $("ladder").tBodies[0];
  body.textContent = "";
  const mine = myPaddle();
  for (const b of feed.bids()) {
    const lead = s && s.bids > 0 && !b.retracted && b.seq === (s.high_seq || -1);
    const src = sourceText(b.source); // 场内 / 电话 beside the paddle
    const cls = [lead ? "lead" : "", mine && b.paddle === mine ? "mine" : "",
      b.retracted ? "retracted" : ""];
    body.append(el("tr", {
      "data-seq": String(b.seq), "data-paddle": String(b.paddle),
      "data-source": b.source || "online", class: cls.join(" ").trim(),
    }, el("td", { class: "num" }, b.paddle, // the spaces let the tags wrap on a narrow phone
      src ? " " : null, src ? el("span", { class: `src src-${b.source}`, text: src }) : null,
      b.retracted ? " " : null,
      b.retracted ? el("span", { class: "tag-retracted", text: t("retracted") }) : null),
    el("td", { class: "r num" }, yuan(b.amount)), el("td", { class: "r num small" }, clock(b.at))));
  }
  $("ladder-note").textContent = feed.historyComplete || !s?.bids ? "" : t("history_partial");
}

function renderReg() {
  const w = conn.welcome;
  const reg = $("reg");
  let text = t("reg_none");
  if (w?.role === "bidder") text = mayBid() ? t("reg_ok", { paddle: w.paddle }) : t("reg_other");
  else if (w && w.role !== "viewer") text = t("reg_staff");
  reg.textContent = text;
  reg.dataset.role = w?.role || "";
  const loggedIn = Boolean(token);
  $("login").classList.toggle("hidden", loggedIn && conn.status !== "unauthorized");
  $("account-login").classList.toggle("hidden", loggedIn && conn.status !== "unauthorized");
  $("logout").classList.toggle("hidden", !loggedIn);
}

/** Fair warning (第一次 / 第二次 / 最后一次警告, cleared by the next bid), 暂停中, and the
 * auctioneer's announcement (as text, never markup). */
function renderLive(s) {
  const banner = $("live-banner");
  const open = s && s.status === "open";
  const state = open && s.paused_at ? "paused" : open && s.warned ? `warn-${s.warned}` : "";
  banner.textContent = state === "paused" ? t("paused_banner") : state ? warningText(s.warned) : "";
  banner.className = `live-banner ${state}${state ? "" : " hidden"}`;
  banner.dataset.state = state;
  const ann = $("announcement");
  const note = (open || s?.status === "scheduled") && s.announcement ? s.announcement.text : "";
  ann.textContent = note;
  ann.classList.toggle("hidden", !note);
}

function renderDetails() {
  const box = $("details");
  box.textContent = "";
  if (!info) return;
  const rows = [
    ["result_type", `${info.result_type || ""} ${info.ip_type ? "· " + info.ip_type : ""}`],
    ["transaction_mode", info.transaction_mode], ["field", info.technology_field],
    ["holder", info.holder_name], ["description", info.description],
  ];
  const table = el("table");
  for (const [k, v] of rows) {
    if (v) table.append(el("tr", {}, el("th", { text: t(k) }), el("td", { text: v })));
  }
  box.append(table);
}

function renderClock() {
  const s = feed.state;
  const cd = $("countdown");
  $("server-time").textContent = conn.welcome ? clock(conn.now()) : "—";
  if (!s) return;
  if (s.status !== "open") {
    cd.textContent = s.status === "scheduled" ? t("not_open_yet") : t("ended");
    cd.className = "countdown";
    cd.style.fontSize = "1.1rem";
  } else if (s.mode === "timed" && s.ends_at) {
    const left = s.ends_at - (s.paused_at || conn.now()); // the clock stops while paused
    cd.textContent = duration(left);
    cd.className = `countdown num${left < 60000 ? " urgent" : ""}`;
    cd.style.fontSize = "";
    cd.dataset.endsAt = String(s.ends_at);
  } else {
    cd.textContent = t("live_no_clock");
    cd.className = "countdown small";
    cd.style.fontSize = "1rem";
  }
}

function render() {
  const s = feed.state;
  paintConn($("conn"), conn.status);
  const n = $("notice");
  if (notice) {
    n.textContent = t(notice.key, notice.vars || {});
    n.className = `notice ${notice.kind}`;
    n.dataset.key = notice.key;
  } else {
    n.className = "notice hidden";
  }
  if (info) {
    $("title").textContent = `${info.ordinal ? info.ordinal + ". " : ""}${info.title}`;
    document.title = `${info.title} · ${t("app")}`;
  }
  $("session-name").textContent = session ? session.name : "";
  const mode = s?.mode || session?.mode;
  $("mode").textContent = mode ? t(`mode_${mode}`) : "";
  const status = s?.status || info?.status;
  $("status").textContent = status ? statusText(status) : "";
  $("status").className = `badge st-${status || ""}`;
  $("status").dataset.status = status || "";
  const viewers = feed.viewers;
  $("viewers").textContent = viewers === null ? "" : t("viewers_n", { n: viewers });
  $("viewers").classList.toggle("hidden", viewers === null);
  if (s) {
    $("price").textContent = s.bids > 0 || s.status === "sold" ? yuan(s.high) : yuan(s.start);
    $("leader").textContent = s.paddle ? String(s.paddle) : "—";
    $("bid-count").textContent = String(s.bids || 0);
    $("start").textContent = yuan(s.start);
    $("inc").textContent = yuan(s.inc);
    $("next").textContent = s.status === "open" || s.status === "scheduled" ? yuan(nextBid(s)) : "—";
    $("price").dataset.fen = String(s.high || 0);
  } else if (info) {
    $("start").textContent = yuan(info.start_price_fen);
    $("inc").textContent = yuan(info.increment_fen);
  }
  renderStanding(s);
  renderLive(s);
  renderQuick(s);
  renderLadder(s);
  renderReg();
  renderClock();
  const fb = $("feedback");
  fb.textContent = feedback ? feedback.text : "";
  fb.className = `feedback ${feedback ? feedback.kind : ""}`;
}

function askLargeJump(amount, next, steps) {
  return new Promise((resolve) => {
    const dlg = $("confirm");
    $("confirm-text").textContent = t("confirm_text", {
      amount: yuan(amount), next: yuan(next), steps,
    });
    const done = (ok) => {
      $("confirm-ok").onclick = null;
      $("confirm-cancel").onclick = null;
      dlg.close();
      resolve(ok);
    };
    $("confirm-ok").onclick = () => done(true);
    $("confirm-cancel").onclick = () => done(false);
    dlg.oncancel = () => resolve(false);
    dlg.showModal();
  });
}

async function placeBid(amount) {
  const s = feed.state;
  if (!s || !Number.isInteger(amount) || amount <= 0) {
    feedback = { text: t("err_amount"), kind: "bad" };
    render();
    return;
  }
  const next = nextBid(s);
  if (s.inc > 0 && amount - next >= LARGE_JUMP_STEPS * s.inc) {
    const steps = Math.floor((amount - next) / s.inc);
    if (!(await askLargeJump(amount, next, steps))) return;
  }
  busy = true;
  feedback = {
    text: conn.status === "open" ? t("sent") : `${t("sent")} ${t("pending_retry")}`, kind: "",
  };
  render();
  const answer = await conn.bid(lotId, amount, newKey("b"));
  busy = false;
  if (answer.t === "ack") {
    feedback = { text: `${t("accepted")}: ${yuan(amount)}`, kind: "good" };
  } else {
    let message = nackText(answer);
    if (answer.minimum) message += ` (${t("next_bid")} ${yuan(answer.minimum)})`;
    feedback = { text: t("rejected", { message }), kind: "bad" };
  }
  render();
}

$("custom").addEventListener("submit", (e) => {
  e.preventDefault();
  const fen = parseYuan($("amount").value);
  if (fen === null) {
    feedback = { text: t("err_amount"), kind: "bad" };
    render();
    return;
  }
  placeBid(fen);
});

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = $("token").value.trim();
  if (!value) return;
  token = value;
  storeToken("bidder", token);
  $("token").value = "";
  notice = null;
  conn.setToken(token);
});

/** The bid credential from the bidder's own cookie login (docs/http-api.md "Cookie login"),
 * kept across tabs: a logged-in bidder whose registration in this lot's session has its deposit
 * confirmed takes it with POST /registrations/{id}/token (X-CSRF-Token from the readable
 * cookie); anyone else is offered 报名 (apply.html). True when a credential was taken. */
async function takeCredential() {
  const sess = info?.session_id;
  if (!sess) return false;
  let link = $("apply-link");
  if (!link) {
    link = el("a", { id: "apply-link", class: "btn primary mt-8", "data-i18n": "apply",
      href: `apply.html?session=${sess}`, text: t("apply") });
    $("reg").after(link);
  }
  link.classList.toggle("hidden", Boolean(token));
  const csrf = /(?:^|;\s*)auction_csrf=([^;]*)/.exec(document.cookie);
  if (token || !csrf) return false;
  try {
    const mine = await api("/registrations/mine");
    const reg = mine.registrations.find((r) => r.session_id === sess && r.status === "deposit_paid");
    if (!reg) return false;
    const credential = await api(`/registrations/${reg.id}/token`, {
      method: "POST", headers: { "X-CSRF-Token": decodeURIComponent(csrf[1]) },
    });
    token = credential.token;
    storeToken("bidder", token);
    link.classList.add("hidden");
    notice = null;
    conn.setToken(token);
    return true;
  } catch {
    return false; // not a bidder's own login (or gone): the page stays a viewer's
  }
}

$("account-login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!username || !password) return;
  try {
    await api("/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password, cookie: true }),
    });
  } catch {
    showNotice("err_login", "bad");
    return;
  }
  $("password").value = "";
  if (!(await takeCredential())) showNotice("err_no_registration", "bad");
});

$("logout").addEventListener("click", () => {
  token = null;
  storeToken("bidder", null);
  conn.setToken(null);
});

conn.on((e) => {
  if (e.type === "unauthorized") {
    token = null;
    storeToken("bidder", null);
    showNotice("conn_unauthorized", "bad");
    conn.setToken(null); // carry on as a viewer
    return;
  }
  if (e.type === "notice" && e.code === "state_replaced") {
    showNotice("state_replaced");
    return;
  }
  const ev = e.type === "lot" && e.lot === lotId ? e.ev : null;
  if (ev?.kind === "extended") {
    notice = { key: "extended", kind: "", vars: { time: clock(ev.ends_at) } };
  } else if (ev?.kind === "bid_retracted") {
    // the retracted bidder is told in so many words; everyone else why the price went back
    const mine = myPaddle() !== null && ev.paddle === myPaddle();
    notice = { key: mine ? "your_bid_retracted" : "bid_retracted_note", kind: mine ? "bad" : "",
      vars: { paddle: ev.paddle, amount: yuan(ev.amount) } };
  } else if (ev?.kind === "reopened") {
    notice = { key: "reopened_note", kind: "" };
  } else if (ev?.kind === "increment_changed"
    && !["your_bid_retracted", "bid_retracted_note", "reopened_note"].includes(notice?.key)) {
    notice = { key: "inc_changed", kind: "", vars: { inc: yuan(ev.inc) } }; // next bid: high + inc
  } else if (ev && ["opened", "sold", "passed", "withdrawn"].includes(ev.kind)
    && ["reopened_note", "bid_retracted_note", "inc_changed", "your_bid_retracted"]
      .includes(notice?.key)) {
    notice = null; // the room moved on: older news gives way
  }
  if (e.type === "resumed" && conn.reconnects > 0) {
    notice = { key: "resumed_ok", kind: "good" };
  }
  if (e.type === "status" && e.status === "reconnecting") {
    notice = { key: "conn_reconnecting", kind: "" };
  }
  if (e.type === "status" && e.status === "open" && notice?.key === "conn_reconnecting") {
    notice = null;
  }
  render();
});

setupLang($("lang"), () => {
  renderDetails();
  render();
});
setInterval(renderClock, 250);

async function load() {
  if (!lotId) {
    $("title").textContent = "?id=";
    return;
  }
  try {
    // the server may be restarting: keep trying (the socket reconnects by itself)
    info = await retrying(() => api(`/lots/${lotId}`), (err, s) => {
      $("title").textContent = t("retrying", { message: err.message, s });
    });
    session = await api(`/sessions/${info.session_id}`).catch(() => null);
  } catch (err) {
    $("title").textContent = err.message;
  }
  renderDetails();
  render();
  takeCredential();
}

load();
conn.connect();
