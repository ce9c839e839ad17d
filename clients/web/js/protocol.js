// The websocket client shared by every page (docs/protocol.md): msgpack frames, hello with a
// token, per-lot epoch/seq tracking, resume after a reconnect (no gap, no duplicate), reconnect
// with backoff, server-time offset from welcome/pong, idempotency keys for bids and commands
// (a request not yet answered is sent again with the SAME key after a reconnect). A link that
// goes silent (the network cut: no close event) is declared dead within about 5 s and replaced
// by a new socket with resume, without waiting for the old one's onclose. Frames that
// are not events (presence, reserve, missed_bid for staff; viewers for everyone else) are kept
// on the lot's feed and announced as a "room" event.
//
// Needs vendor/msgpack.min.js loaded first (global MessagePack).

const MP = globalThis.MessagePack;

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 5000];
// The link is checked often enough that a cut is seen within about 5 s: a ping every 2.5 s, and
// the socket is declared dead when nothing at all has come from the server for 5 s while a ping
// has been waiting for its pong for at least 1 s (a tab whose timers were throttled in the
// background does not count as dead merely because its own ping went out late).
const PING_EVERY_MS = 2500;
const SILENCE_MS = 5000;
const PING_GRACE_MS = 1000;
const WATCHDOG_MS = 250;
const REQUEST_GIVE_UP_MS = 60000;
const FATAL_CLOSES = new Set([4401, 4400, 1009]);

/** A random idempotency key (works on plain http too, unlike crypto.randomUUID). */
export function newKey(prefix = "w") {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function defaultWsUrl() {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
}

/**
 * A msgpack map from [key, value] pairs; keys may be integers (the resume map's lot ids), which
 * MessagePack.encode cannot do for a plain object or a JS Map. A value that is already a
 * Uint8Array made by this function is inserted as is.
 */
export function encodeMap(pairs) {
  const parts = [];
  const n = pairs.length;
  parts.push(n < 16 ? Uint8Array.of(0x80 | n) : Uint8Array.of(0xde, n >> 8, n & 0xff));
  for (const [k, v] of pairs) {
    parts.push(MP.encode(k));
    parts.push(v instanceof Uint8Array && v.packedMap ? v : MP.encode(v));
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out.packedMap = true;
  return out;
}

/** The next valid bid of a lot state (docs/protocol.md, Snapshot state). */
export function nextBid(state) {
  if (!state) return 0;
  return state.bids > 0 ? state.high + state.inc : state.start;
}

/** A Dutch lot's price at server time ``now`` and when it next drops (docs/formats.md D2):
 * ``{price, nextDrop}``; ``nextDrop`` is null once the floor is reached. */
export function dutchPrice(state, now) {
  if (!state || state.format !== "dutch" || !state.opened_at || !state.interval_ms) {
    return { price: state ? state.start : 0, nextDrop: null };
  }
  const drops = Math.floor(Math.max(0, now - state.opened_at) / state.interval_ms);
  const price = Math.max(state.floor, state.start - state.step * drops);
  const nextDrop = price > state.floor ? state.opened_at + (drops + 1) * state.interval_ms : null;
  return { price, nextDrop };
}

/** One lot as this client knows it. */
export class LotFeed {
  constructor(id) {
    this.id = id;
    this.epoch = null; // null until the first snapshot
    this.seq = 0; // last seq applied
    this.state = null; // snapshot state, kept current by events
    this.ladder = new Map(); // seq -> {seq, paddle, amount, at}
    this.applied = []; // every seq applied live or by resume (tests check it is gapless)
    this.historyComplete = false; // ladder holds every bid since opening
    this.backfilling = false;
    this.gaps = 0; // gaps seen (then repaired by resubscribing); should stay 0
    this.resets = 0; // snapshots with recovered:false
    this.last = null; // last event applied
    this.viewers = null; // 围观: sockets watching the lot (viewers / presence frames)
    this.bidders = null; // staff only: the session's bidders connected (presence)
    this.reserve = null; // staff only: "met" | "not_met" | "none"
    this.missed = []; // staff only: bids refused after the close, newest first
    this.incBy = null; // who set the current increment: "auctioneer" (an override) or "table"
    this.mine = null; // a bidder's own secrets: {proxy_max} or {quote, revisions_left}
    this.proxies = null; // staff only: how many bidders hold a proxy (never their maxima)
  }

  bids() {
    return Array.from(this.ladder.values()).sort((a, b) => b.seq - a.seq);
  }

  /** The bids that stand (not retracted), newest first. */
  standing() {
    return this.bids().filter((b) => !b.retracted);
  }
}

/** A ladder entry from a `bid` event (or the HTTP history): `source` online / floor / phone. */
function ladderEntry(ev) {
  return {
    seq: ev.seq, paddle: ev.paddle, amount: ev.amount, at: ev.at,
    source: ev.source || "online", retracted: false, auto: Boolean(ev.auto),
    sealed: Boolean(ev.sealed), accepted: Boolean(ev.accepted), preempt: Boolean(ev.preempt),
  };
}

/** Mark a retracted bid in the ladder (it stays in the history, marked, never deleted). */
function markRetracted(feed, ev) {
  const entry = feed.ladder.get(Number(ev.bid_seq));
  if (entry) entry.retracted = true;
}

/** Who set the increment (the snapshot does not say): the last increment_changed's `by`. */
function noteIncrement(feed, ev) {
  if (ev.kind === "increment_changed") feed.incBy = ev.by || null;
  else if (ev.kind === "opened") feed.incBy = null;
}

/** The seq of the standing bid after a retraction or a reopening: the newest bid of the ladder
 * that is not retracted and matches the room's high and leader (0 when unknown). */
function standingSeq(feed) {
  const s = feed.state;
  if (!s || !s.bids) return 0;
  for (const b of feed.bids()) {
    if (!b.retracted && b.amount === s.high && b.paddle === s.paddle) return b.seq;
  }
  return 0;
}

function applyEvent(state, ev) {
  switch (ev.kind) {
    case "opened":
      state.status = "open";
      state.start = ev.start;
      state.inc = ev.inc;
      state.ends_at = ev.ends_at || 0;
      state.opened_at = ev.at;
      state.high = 0;
      state.paddle = 0;
      state.bids = 0;
      state.warned = 0;
      state.paused_at = 0;
      state.announcement = null;
      break;
    case "bid":
      state.warned = 0; // a bid after a fair warning resets the count
      state.high = ev.amount;
      state.paddle = ev.paddle;
      state.bids = (state.bids || 0) + 1;
      state.high_seq = ev.seq;
      break;
    case "round_started": // a rounds lot's round n began; it ends at ends_at
      state.round = ev.n;
      state.ends_at = ev.ends_at;
      break;
    case "quote_received": // a sealed quote: only how many bidders quoted
      state.quotes = ev.count;
      break;
    case "extended":
      state.ends_at = ev.ends_at;
      state.extensions = (state.extensions || 0) + 1;
      break;
    case "sold":
      state.status = "sold";
      state.paddle = ev.paddle;
      state.high = ev.amount;
      state.closed_at = ev.at;
      break;
    case "passed":
      state.status = "passed";
      state.reason = ev.reason;
      state.closed_at = ev.at;
      break;
    case "warned": // the snapshot's field of the same name: last warning since the last bid
      state.warned = Number(ev.n) || 0;
      break;
    case "announced":
      state.announcement = { text: String(ev.text ?? ""), at: ev.at };
      break;
    case "paused": // the snapshot's paused_at: when the lot was paused, 0 = running
      state.paused_at = ev.at || Date.now();
      break;
    case "resumed":
      state.paused_at = 0;
      if (ev.ends_at) state.ends_at = ev.ends_at; // a timed lot keeps the time it had left
      break;
    case "withdrawn":
      state.status = "withdrawn";
      state.reason = ev.reason;
      state.paused_at = 0;
      state.closed_at = ev.at;
      break;
    case "increment_changed": // the next valid bid is high + this inc from now on
      state.inc = Number(ev.inc);
      break;
    case "bid_retracted": // the auctioneer's undo: the room's price, leader and count after it
      state.high = Number(ev.high) || 0;
      state.paddle = Number(ev.high_paddle) || 0;
      state.bids = Number(ev.bids) || 0;
      state.retracted = { paddle: ev.paddle, amount: ev.amount, at: ev.at };
      break;
    case "reopened": // a sold or passed lot open again with its bids, leader and price
      state.status = "open";
      state.high = Number(ev.high) || 0;
      state.paddle = Number(ev.paddle) || 0;
      state.bids = Number(ev.bids) || 0;
      state.closed_at = 0;
      state.reason = null;
      state.warned = 0;
      state.paused_at = 0;
      state.reopened_at = ev.at;
      state.reopened_seq = ev.seq;
      break;
    default:
      break; // unknown kinds are ignored (their seq still counts)
  }
  state.seq = ev.seq;
}

/** Frames sent to staff only (presence, reserve, missed_bid) and the viewers count sent to
 * everyone else: not events (no seq), kept on the lot's feed. */
const ROOM_FRAMES = new Set(["presence", "reserve", "missed_bid", "viewers", "proxies"]);
const MISSED_KEPT = 50;

export class AuctionConnection {
  /**
   * @param {{url?: string, token?: string|null, api?: string}} opts
   */
  constructor(opts = {}) {
    this.url = opts.url || defaultWsUrl();
    this.api = opts.api || "";
    this.token = opts.token || null;
    this.ws = null;
    this.status = "idle"; // idle | connecting | open | reconnecting | unauthorized | closed
    this.welcome = null;
    this.offset = 0; // server time - local time, ms
    this.bestRtt = Infinity;
    this.lots = new Map();
    this.pending = new Map(); // key -> {msg, resolve, sentAt, firstAt}
    this.listeners = new Set();
    this.attempt = 0;
    this.reconnects = 0;
    this.lastClose = null;
    this.timer = null;
    this.pingTimer = null;
    this.pingId = 0;
    this.pings = new Map();
    this.stopped = false;
    this.lastFrameAt = 0; // when the current socket last received anything (device clock)
    this.watchdog = null;
    this.drops = 0; // links declared dead by the watchdog (no pong, no close event)
  }

  // --- public API --------------------------------------------------------------------------

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Server time now (ms since the epoch): never the raw device clock. */
  now() {
    return Date.now() + this.offset;
  }

  connect() {
    this.stopped = false;
    this._open();
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    clearInterval(this.watchdog);
    if (this.ws) this.ws.close(1000);
    this._setStatus("closed");
  }

  setToken(token) {
    this.token = token || null;
    this.welcome = null;
    this.attempt = 0;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null; // its close is ours: open the new connection at once
      ws.close(1000, "token changed");
    }
    if (!this.stopped) this._open();
  }

  /** Follow a lot: snapshot first, then every event; resumed after reconnects. */
  watch(lotId) {
    lotId = Number(lotId);
    if (!this.lots.has(lotId)) {
      this.lots.set(lotId, new LotFeed(lotId));
      if (this.status === "open") this._send({ t: "sub", lot: lotId });
    }
    return this.lots.get(lotId);
  }

  lot(lotId) {
    return this.lots.get(Number(lotId));
  }

  /** Place a bid; resolves with the ack or nack frame (or a local {t:"nack", code:"timeout"}). */
  bid(lot, amount, key = newKey("b")) {
    return this._request({ t: "bid", lot: Number(lot), amount: Number(amount), key });
  }

  /** Set or change this bidder's secret maximum on an english lot (``proxy``). */
  proxy(lot, max, key = newKey("p")) {
    return this._request({ t: "proxy", lot: Number(lot), max: Number(max), key });
  }

  /** Take a Dutch lot at its current price (``accept``). */
  accept(lot, key = newKey("a")) {
    return this._request({ t: "accept", lot: Number(lot), key });
  }

  /** A console command (open / next / hammer / pass / warn / announce / pause / resume /
   * withdraw / undo / reopen / floor / increment), with its `args` when it has any; resolves
   * with the ack or nack. */
  command(lot, op, key = newKey("c"), args = null) {
    const msg = { t: "cmd", lot: Number(lot), op, key };
    if (args) msg.args = args;
    return this._request(msg);
  }

  // --- internals -----------------------------------------------------------------------------

  _emit(type, detail = {}) {
    const event = { type, ...detail };
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch (err) {
        console.error(err);
      }
    }
  }

  _setStatus(status) {
    if (this.status !== status) {
      this.status = status;
      this._emit("status", { status });
    }
  }

  _request(msg) {
    return new Promise((resolve) => {
      const now = Date.now();
      this.pending.set(msg.key, { msg, resolve, sentAt: now, firstAt: now });
      if (this.status === "open") this._send(msg);
      this._emit("pending", { count: this.pending.size });
    });
  }

  _send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(MP.encode(msg));
    return true;
  }

  _open() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this._setStatus(this.attempt === 0 && this.reconnects === 0 ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this._scheduleReconnect();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      const hello = [["t", "hello"]];
      if (this.token) hello.push(["token", this.token]);
      const resume = [];
      for (const feed of this.lots.values()) {
        if (feed.epoch !== null && resume.length < 64) {
          resume.push([feed.id, [feed.epoch, feed.seq]]);
        }
      }
      if (resume.length) hello.push(["resume", encodeMap(resume)]);
      ws.send(encodeMap(hello));
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = Date.now();
      let msg;
      try {
        msg = MP.decode(new Uint8Array(e.data));
      } catch (err) {
        console.error("undecodable frame", err);
        return;
      }
      this._handle(msg);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      clearInterval(this.watchdog);
      this.lastClose = { code: e.code, reason: e.reason };
      const wasOpen = this.status === "open";
      if (e.code === 4401) {
        this.welcome = null;
        this._setStatus("unauthorized");
        this._emit("unauthorized", { code: e.code });
        return;
      }
      if (this.stopped) return;
      if (FATAL_CLOSES.has(e.code)) {
        this._emit("notice", { code: "fatal_close", closeCode: e.code });
      }
      if (wasOpen) this.reconnects += 1;
      this._scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  _scheduleReconnect() {
    if (this.stopped) return;
    this._setStatus("reconnecting");
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = base + Math.floor(Math.random() * base * 0.3);
    this.attempt += 1;
    this._emit("retry", { delay, attempt: this.attempt });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._open(), delay);
  }

  _startPings() {
    clearInterval(this.pingTimer);
    clearInterval(this.watchdog);
    this.pings.clear();
    this.lastFrameAt = Date.now();
    const ping = () => {
      const id = ++this.pingId;
      this.pings.set(id, Date.now());
      this._send({ t: "ping", id });
    };
    ping();
    this.pingTimer = setInterval(ping, PING_EVERY_MS);
    this.watchdog = setInterval(() => this._checkLink(), WATCHDOG_MS);
  }

  /** A half-open link (the network cut, no close event: the browser would wait minutes for
   * TCP to give up) is declared dead at once: the page is told (status "reconnecting") and a
   * new socket is opened with resume, without waiting for the old one's onclose. */
  _checkLink() {
    const ws = this.ws;
    if (!ws || this.status !== "open") return;
    const now = Date.now();
    let oldest = Infinity;
    for (const sent of this.pings.values()) oldest = Math.min(oldest, sent);
    if (now - oldest < PING_GRACE_MS || now - this.lastFrameAt < SILENCE_MS) return;
    this.drops += 1;
    this.ws = null; // its events are ignored from now on
    clearInterval(this.pingTimer);
    clearInterval(this.watchdog);
    this.pings.clear();
    this.lastClose = { code: 0, reason: "no pong" };
    try {
      ws.close(4000, "no pong");
    } catch {
      /* closing a dead socket may throw in some browsers: it is dropped all the same */
    }
    this.reconnects += 1;
    this._setStatus("reconnecting");
    this._emit("link_lost", { pending: this.pending.size });
    this.attempt = 0;
    this._open();
  }

  _handle(msg) {
    switch (msg.t) {
      case "welcome": {
        this.welcome = msg;
        this.offset = msg.server_time - Date.now();
        this.bestRtt = Infinity;
        this.attempt = 0;
        this._setStatus("open");
        this._emit("welcome", { welcome: msg });
        for (const feed of this.lots.values()) {
          if (feed.epoch === null) this._send({ t: "sub", lot: feed.id });
        }
        this._startPings();
        // requests not answered before the drop: same key again (the server dedups)
        const now = Date.now();
        for (const [key, p] of this.pending) {
          if (now - p.firstAt > REQUEST_GIVE_UP_MS) {
            this.pending.delete(key);
            p.resolve({ t: "nack", key, code: "timeout", lot: p.msg.lot });
          } else {
            p.sentAt = now;
            this._send(p.msg);
          }
        }
        break;
      }
      case "pong": {
        const sent = this.pings.get(msg.id);
        this.pings.delete(msg.id);
        if (sent !== undefined && typeof msg.server_time === "number") {
          const recv = Date.now();
          const rtt = recv - sent;
          // keep the sample with the smallest round trip (least uncertainty)
          if (rtt <= this.bestRtt * 1.5 || rtt < 50) {
            this.bestRtt = Math.min(this.bestRtt, rtt);
            this.offset = msg.server_time + rtt / 2 - recv;
          }
          this._emit("clock", { offset: this.offset, rtt });
        }
        break;
      }
      case "snapshot":
        this._snapshot(msg);
        break;
      case "resumed": {
        const feed = this.lots.get(msg.lot);
        if (feed) {
          feed.epoch = msg.epoch;
          this._emit("resumed", { lot: msg.lot, count: msg.count, after: msg.after });
        }
        break;
      }
      case "ev":
        this._event(msg);
        break;
      case "ack":
      case "nack": {
        const p = this.pending.get(msg.key);
        if (p) {
          this.pending.delete(msg.key);
          p.resolve(msg);
        }
        this._emit(msg.t, { msg });
        break;
      }
      case "error":
        if (msg.code === "unavailable" && this.lots.has(msg.lot)) {
          // the sub could not be served now (Redis away, or the room being rebuilt): again soon
          const feed = this.lots.get(msg.lot);
          setTimeout(() => {
            if (this.lots.get(msg.lot) === feed && this.status === "open") {
              this._send(feed.epoch === null ? { t: "sub", lot: feed.id }
                : { t: "sub", lot: feed.id, epoch: feed.epoch, seq: feed.seq });
            }
          }, 2000);
        }
        this._emit("server_error", { msg });
        break;
      default:
        if (ROOM_FRAMES.has(msg.t)) this._roomFrame(msg);
        break;
    }
  }

  _snapshot(msg) {
    const feed = this.lots.get(msg.lot);
    if (!feed) return;
    const wasBackfill = feed.backfilling;
    feed.backfilling = false;
    const gap = msg.recovered === false && !wasBackfill;
    const epochChanged = feed.epoch !== null && feed.epoch !== msg.epoch;
    if (gap || epochChanged) {
      feed.resets += 1;
      feed.ladder.clear();
      feed.applied = [];
      feed.historyComplete = false;
    }
    feed.epoch = msg.epoch;
    feed.seq = msg.seq;
    feed.state = { ...msg.state, seq: msg.seq };
    feed.mine = msg.mine || null;
    feed.proxies = msg.proxies ?? null;
    if (gap) this._emit("notice", { code: "state_replaced", lot: feed.id });
    this._emit("lot", { lot: feed.id, feed, reason: "snapshot" });
    if (!feed.historyComplete) {
      if (msg.seq === 0) {
        feed.historyComplete = true;
      } else if (!wasBackfill) {
        // fetch the lot's whole history from its stream: resume "after 0" (gapless, in order)
        feed.backfilling = true;
        this._send({ t: "sub", lot: feed.id, epoch: msg.epoch, seq: 0 });
      } else {
        this._historyFromHttp(feed); // the stream no longer holds it all
      }
    }
  }

  _roomFrame(msg) {
    const feed = this.lots.get(msg.lot);
    if (!feed) return;
    if (msg.t === "viewers") feed.viewers = Number(msg.viewers);
    else if (msg.t === "proxies") feed.proxies = Number(msg.proxies); // staff: proxies active
    else if (msg.t === "presence") {
      feed.viewers = Number(msg.viewers);
      feed.bidders = Number(msg.bidders);
    } else if (msg.t === "reserve") feed.reserve = msg.reserve;
    else if (msg.t === "missed_bid") {
      feed.missed.unshift({ paddle: msg.paddle, amount: msg.amount, late_ms: msg.late_ms,
        at: this.now() });
      if (feed.missed.length > MISSED_KEPT) feed.missed.pop();
    }
    this._emit("room", { lot: feed.id, feed, frame: msg.t, msg });
  }

  async _historyFromHttp(feed) {
    try {
      const r = await fetch(`${this.api}/api/v1/lots/${feed.id}/bids`);
      if (!r.ok) return;
      const body = await r.json();
      for (const b of body.bids || []) {
        if (!feed.ladder.has(b.seq) && b.seq <= feed.seq) {
          feed.ladder.set(b.seq, { seq: b.seq, paddle: b.paddle, amount: b.amount_fen, at: b.at,
            source: b.source || "online", retracted: Boolean(b.retracted),
            auto: b.mark === "auto", sealed: b.mark === "sealed", preempt: b.mark === "preempt",
            accepted: b.mark === "accepted" });
        }
      }
      this._emit("lot", { lot: feed.id, feed, reason: "history" });
    } catch (err) {
      console.warn("history", err);
    }
  }

  _event(ev) {
    const feed = this.lots.get(ev.lot);
    if (!feed || feed.epoch === null) return;
    if (ev.epoch !== feed.epoch) return; // a snapshot for the new epoch is on its way
    if (ev.seq <= feed.seq) {
      // history (the backfill after a fresh snapshot): the ladder only
      if (ev.kind === "bid" && !feed.ladder.has(ev.seq)) feed.ladder.set(ev.seq, ladderEntry(ev));
      if (ev.kind === "bid_retracted") markRetracted(feed, ev);
      noteIncrement(feed, ev);
      if (ev.seq === feed.seq) {
        feed.historyComplete = true;
        this._emit("lot", { lot: feed.id, feed, reason: "history" });
      }
      return;
    }
    if (ev.seq !== feed.seq + 1) {
      // never expected; repair by resuming from what we have
      feed.gaps += 1;
      this._send({ t: "sub", lot: feed.id, epoch: feed.epoch, seq: feed.seq });
      return;
    }
    if (feed.backfilling) feed.historyComplete = true; // history reached the live edge
    applyEvent(feed.state, ev);
    feed.seq = ev.seq;
    feed.applied.push(ev.seq);
    if (feed.applied.length > 5000) feed.applied.splice(0, 1000);
    if (ev.kind === "bid") feed.ladder.set(ev.seq, ladderEntry(ev));
    if (ev.kind === "bid_retracted") markRetracted(feed, ev);
    noteIncrement(feed, ev);
    if (ev.kind === "bid_retracted" || ev.kind === "reopened") {
      feed.state.high_seq = standingSeq(feed); // the lead row again (0: no standing bid)
    }
    feed.last = ev;
    this._emit("lot", { lot: feed.id, feed, reason: "event", ev });
  }
}
