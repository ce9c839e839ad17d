// 我的竞拍 (me.html): the logged-in bidder's registrations with their deposits and states, the
// lots it is bidding on (领先 / 出局, from the room's live state), and the lots it won with what
// comes next. Read with the cookie login: GET /registrations/mine, each GET /registrations/{id}
// (deposits), and the public lots and bids of the sessions where it holds a paddle; refreshed
// every few seconds while the page is open.
import { api, el, setupLang, yuan } from "./common.js";
import { applyTr, depositState, loginHref, tr, whoAmI } from "./account.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;

let me = null;
let gate = null;
let regs = []; // GET /registrations/{id} of each
let bidding = []; // {lot, paddle, mine, state}
let wins = []; // {lot, paddle, amount}

function card(...children) {
  return el("div", { class: "item" }, ...children);
}

function tag(state) {
  return el("span", { class: `tag t-${state}`, "data-state": state, text: tr(state) });
}

function render() {
  applyTr();
  $("gate").classList.toggle("hidden", !gate);
  if (gate) $("gate-text").textContent = tr(gate);
  $("gate-login").href = loginHref();
  $("mine").classList.toggle("hidden", Boolean(gate) || !me);
  $("who").textContent = me ? tr("logged_in_as", { name: me.account?.username || me.subject }) : "";
  if (!me || gate) return;

  const winsBox = $("wins");
  winsBox.textContent = "";
  for (const w of wins) {
    winsBox.append(card(
      el("div", { class: "row" }, el("a", { href: `lot.html?id=${w.lot.id}`, text: w.lot.title }),
        tag("won")),
      el("div", { class: "small" }, `${tr("deal_price")} `,
        el("strong", { class: "num", text: yuan(w.amount) }), ` · ${tr("my_paddle")} ${w.paddle}`),
      el("p", { class: "small muted", text: `${tr("next_steps")}: ${tr("win_next")}` })));
  }
  if (!wins.length) winsBox.append(el("p", { class: "muted", text: tr("nothing_yet") }));

  const bidBox = $("bidding");
  bidBox.textContent = "";
  for (const b of bidding) {
    bidBox.append(card(
      el("div", { class: "row" }, el("a", { href: `lot.html?id=${b.lot.id}`, text: b.lot.title }),
        tag(b.state)),
      el("div", { class: "small num" },
        `${tr("current")} ${yuan(b.high)} · ${tr("my_high")} ${yuan(b.mine)} · ${tr("my_paddle")} ${b.paddle}`)));
  }
  if (!bidding.length) bidBox.append(el("p", { class: "muted", text: tr("nothing_yet") }));

  const regBox = $("regs");
  regBox.textContent = "";
  for (const r of regs) {
    const deposits = (r.deposits || []).map((d) => `${yuan(d.amount_fen)} ${depositState(d.state)}`);
    if (!deposits.length) deposits.push(`${yuan(r.deposit?.amount_fen ?? 0)} ${depositState(r.deposit?.state)}`);
    regBox.append(card(
      el("div", { class: "row" },
        el("a", { href: `apply.html?session=${r.session_id}`, text: r.session?.name || `#${r.session_id}` }),
        el("span", { class: `reg-status rs-${r.status}`, "data-status": r.status,
          text: tr(`status_${r.status}`) })),
      el("div", { class: "small" },
        r.paddle ? `${tr("my_paddle")} ${r.paddle} · ` : "", `${tr("deposit")}: ${deposits.join("; ")}`),
      r.status === "rejected" && r.reason
        ? el("div", { class: "small field-err", text: `${tr("reason")}: ${r.reason}` }) : null));
  }
  if (!regs.length) regBox.append(el("p", { class: "muted", text: tr("nothing_yet") }));
}

/** A session's lots and my place in each, for the paddle ``paddle``. */
async function lotsWith(sessionId, paddle) {
  const { lots } = await api(`/sessions/${sessionId}/lots`);
  for (const lot of lots) {
    const live = lot.live;
    const result = lot.result;
    // the room knows a hammer before the settlement is written: either counts
    if (result?.outcome === "sold" && result.paddle === paddle) {
      wins.push({ lot, paddle, amount: result.amount_fen });
      continue;
    }
    if (!result && live?.status === "sold" && live.paddle === paddle) {
      wins.push({ lot, paddle, amount: live.high });
      continue;
    }
    if (lot.status === "scheduled") continue;
    const { bids } = await api(`/lots/${lot.id}/bids`);
    const own = bids.filter((b) => b.paddle === paddle && !b.retracted);
    const liveMine = live && live.paddle === paddle && live.bids > 0;
    if (!own.length && !liveMine) continue;
    const mine = Math.max(0, ...own.map((b) => b.amount_fen), liveMine ? live.high : 0);
    if (live && live.status === "open") {
      bidding.push({ lot, paddle, mine, high: live.high, state: liveMine ? "leading" : "outbid" });
    } else if (result || (live && live.status !== "open")) {
      bidding.push({ lot, paddle, mine, high: result.amount_fen ?? mine, state: "lost" });
    }
  }
}

async function load() {
  me = await whoAmI();
  if (!me) {
    gate = "need_login";
    return;
  }
  if (me.role !== "bidder" || !me.bidder_id) {
    gate = "not_bidder";
    return;
  }
  gate = null;
  const mine = await api("/registrations/mine");
  const next = await Promise.all(mine.registrations.map((r) => api(`/registrations/${r.id}`)));
  const nextBids = [];
  const nextWins = [];
  [bidding, wins] = [nextBids, nextWins];
  for (const r of next) {
    if (r.paddle) await lotsWith(r.session_id, r.paddle);
  }
  regs = next;
}

async function tick() {
  try {
    await load();
  } catch {
    // shown as it was; the next tick tries again
  }
  render();
}

setupLang($("lang"), render);
tick();
setInterval(() => {
  if (!document.hidden && me) tick();
}, REFRESH_MS);
