// The lot's format on the bidder page (docs/formats.md): its name and terms, and what the
// format adds — the proxy form and the bidder's own maximum (english), the number of quotes and
// the bidder's own quote (sealed), the falling price, the next drop and 按现价接受 (dutch).
// The bidder's secrets come from its own snapshot (`mine`) and acks, never from the stream.
import { addTexts, clock, nackText, parseYuan, t, yuan } from "./common.js";
import { dutchPrice } from "./protocol.js";

addTexts({
  zh: {
    fmt_title: "竞价规则: {name}",
    fmt_english: "增价拍卖",
    fmt_sealed: "密封报价 (一次报价)",
    fmt_dutch: "减价拍卖",
    fmt_rounds: "自由报价 + 限时轮次",
    fmt_listing: "挂牌",
    fmt_terms_listing: "挂牌期内不出价; 挂牌期满仅一家意向受让方则按挂牌价协议成交, 两家及以上转为限时增价竞价 (仅限这些意向受让方), 无人则挂牌期满未成交。",
    fmt_terms_rounds: "开拍后自由报价 {free}, 随后进入每轮 {round} 的限时报价: 每轮内有人出价即开始新一轮, 某一轮无人出价则结束, 最高价者得 (须达到保留价)。",
    fmt_round_free: "自由报价阶段, 至 {time} 结束",
    fmt_round_n: "第 {n} 轮, {time} 截止",
    fmt_sum_rounds: "自由报价 {free}, 每轮 {round}",
    fmt_terms_english: "价高者得; 可设置委托出价上限, 系统按加价幅度自动代为出价, 上限相同时先设置者优先。",
    fmt_terms_sealed: "开放期间每位竞买人提交一个报价, 可修改 {n} 次; 报价在结束时统一公开, 最高价者得, 报价相同时先报者得, 须达到保留价。",
    fmt_terms_dutch: "从 {start} 起, 每 {every} 降价 {step}, 最低 {floor}; 第一位按现价接受者成交, 到最低价仍无人接受则流拍。",
    fmt_quotes: "已收到报价",
    fmt_quotes_n: "{n} 份",
    fmt_dutch_price: "当前减价价格",
    fmt_next_drop: "下次降价",
    fmt_at_floor: "已降至最低价",
    fmt_accept: "按现价接受",
    fmt_proxy_label: "委托出价上限 (元, 仅您可见)",
    fmt_proxy_btn: "设置委托出价",
    fmt_my_proxy: "您的委托出价上限: {amount} (仅您可见)",
    fmt_my_quote: "您的报价: {amount} (仅您可见), 还可修改 {n} 次",
    fmt_proxy_ok: "委托出价已设置: 上限 {amount}",
    fmt_accept_ok: "已接受, 成交价 {amount}",
    fmt_quote_ok: "报价已提交: {amount}",
    fmt_sealed_submit: "提交报价",
    e_wrong_format: "该操作不适用于本标的的竞价方式",
    e_no_revisions_left: "报价修改次数已用完",
    auto_bid: "委托",
    preempt_bid: "优先权",
    fmt_preempt_mine: "您享有优先购买权 (第 {n} 顺位): 可以与当前最高价相同的价格出价并领先。",
    fmt_preempt_btn: "同价优先 {amount}",
    sealed_quote: "报价",
    fmt_sec: "{n} 秒",
    fmt_min: "{n} 分钟",
    fmt_rules: "竞价规则",
    fmt_sum_proxies: "委托出价生效 {n} 个",
    fmt_sum_revisions: "可修改 {n} 次",
    fmt_sum_quotes: "已收报价 {n} 份",
    fmt_sum_dutch: "每 {every} 降 {step}, 最低 {floor}",
  },
  en: {
    fmt_title: "Rules: {name}",
    fmt_english: "Ascending",
    fmt_sealed: "Sealed quotes",
    fmt_dutch: "Dutch (descending)",
    fmt_rounds: "Free bidding, then timed rounds",
    fmt_listing: "Listing",
    fmt_terms_listing: "No bids during the listing period; at its end one qualified buyer buys at the listing price, two or more bid in a timed ascending auction among them, none: the listing expires.",
    fmt_terms_rounds: "Free bidding for {free} after the opening, then rounds of {round}: a bid in a round starts the next; a round without a bid ends the lot; the highest bid wins (the reserve applies).",
    fmt_round_free: "Free bidding until {time}",
    fmt_round_n: "Round {n}, ends {time}",
    fmt_sum_rounds: "free {free}, rounds of {round}",
    fmt_terms_english: "Highest bid wins; you may leave a secret maximum and the room bids for you by the increment; equal maxima: the earlier one leads.",
    fmt_terms_sealed: "Each bidder submits one quote while the lot is open and may revise it {n} time(s); quotes are revealed at the close; the highest wins, equal quotes: the earlier; the reserve applies.",
    fmt_terms_dutch: "From {start}, falling by {step} every {every}, down to {floor}; the first to accept the current price buys; no acceptance at the floor: passed.",
    fmt_quotes: "Quotes received",
    fmt_quotes_n: "{n}",
    fmt_dutch_price: "Current price",
    fmt_next_drop: "Next drop",
    fmt_at_floor: "At the floor",
    fmt_accept: "Accept the current price",
    fmt_proxy_label: "Proxy maximum (yuan, only you see it)",
    fmt_proxy_btn: "Set proxy",
    fmt_my_proxy: "Your proxy maximum: {amount} (only you see it)",
    fmt_my_quote: "Your quote: {amount} (only you see it); {n} revision(s) left",
    fmt_proxy_ok: "Proxy set: maximum {amount}",
    fmt_accept_ok: "Accepted at {amount}",
    fmt_quote_ok: "Quote submitted: {amount}",
    fmt_sealed_submit: "Submit a quote",
    e_wrong_format: "Not possible in this lot's format",
    e_no_revisions_left: "No revisions of your quote left",
    auto_bid: "proxy",
    preempt_bid: "preemptive right",
    fmt_preempt_mine: "You hold a preemptive right (order {n}): you may bid equal to the high and lead.",
    fmt_preempt_btn: "Match at {amount}",
    sealed_quote: "quote",
    fmt_sec: "{n} s",
    fmt_min: "{n} min",
    fmt_rules: "Rules",
    fmt_sum_proxies: "{n} proxy bid(s) active",
    fmt_sum_revisions: "{n} revision(s) allowed",
    fmt_sum_quotes: "{n} quote(s) received",
    fmt_sum_dutch: "falls {step} every {every}, floor {floor}",
  },
});

const $ = (id) => document.getElementById(id);
let feedback = null; // {text, kind}

/** The lot's format: the room's, else the lot's JSON. */
export function formatOf(s, info) {
  // a listing that ended by agreement or expired stays a listing on its page; one that became
  // an auction is the room's (english)
  if (info?.listing && info.listing.state !== "auction") return "listing";
  return s?.format || info?.format || "english";
}

function every(ms) {
  const s = Math.round(ms / 1000);
  return s % 60 === 0 ? t("fmt_min", { n: s / 60 }) : t("fmt_sec", { n: s });
}

function terms(fmt, s, info) {
  if (fmt === "sealed") return t("fmt_terms_sealed", { n: s?.revisions ?? info?.revisions ?? 0 });
  if (fmt === "dutch") {
    return t("fmt_terms_dutch", {
      start: yuan(s?.start ?? info?.start_price_fen), step: yuan(s?.step ?? info?.step_fen),
      every: every(s?.interval_ms ?? (info?.interval_s || 0) * 1000),
      floor: yuan(s?.floor ?? info?.floor_fen),
    });
  }
  if (fmt === "listing") return t("fmt_terms_listing");
  if (fmt === "rounds") {
    return t("fmt_terms_rounds", { free: every(s?.free_ms ?? (info?.free_s || 0) * 1000),
      round: every(s?.round_ms ?? (info?.round_s || 0) * 1000) });
  }
  return t("fmt_terms_english");
}

/** A rounds lot's phase: the free phase or round n, and when it ends. */
function roundLine(s) {
  if (!s || s.format !== "rounds" || s.status !== "open") return "";
  return s.round ? t("fmt_round_n", { n: s.round, time: clock(s.ends_at) })
    : t("fmt_round_free", { time: clock(s.ends_at) });
}

/** One line for the console and the room screen: the format, its terms and its state (how
 * many proxies are active — staff only, ``proxies`` — the quotes received, the Dutch price and
 * its next drop at server time ``now``). */
export function formatSummary(s, now, proxies = null, money = yuan) {
  if (!s) return "";
  const fmt = s.format || "english";
  const parts = [t(`fmt_${fmt}`)];
  if (fmt === "english" && proxies) parts.push(t("fmt_sum_proxies", { n: proxies }));
  if (fmt === "rounds") {
    parts.push(t("fmt_sum_rounds", { free: every(s.free_ms || 0), round: every(s.round_ms || 0) }));
    const phase = roundLine(s);
    if (phase) parts.push(phase);
  }
  if (fmt === "sealed") {
    parts.push(t("fmt_sum_revisions", { n: s.revisions || 0 }));
    parts.push(t("fmt_sum_quotes", { n: s.quotes || 0 }));
  }
  if (fmt === "dutch") {
    parts.push(t("fmt_sum_dutch", { every: every(s.interval_ms || 0), step: money(s.step),
      floor: money(s.floor) }));
    if (s.status === "open") {
      const { price, nextDrop } = dutchPrice(s, now);
      parts.push(`${t("fmt_dutch_price")} ${money(price)}`);
      parts.push(nextDrop ? `${t("fmt_next_drop")} ${clock(nextDrop)}` : t("fmt_at_floor"));
    }
  }
  return parts.join(" · ");
}

/** Draw the format card; ``ctx``: {s, info, feed, conn, may (the bidder may act now)}. */
export function renderFormat(ctx) {
  const { s, info, feed, conn, may } = ctx;
  const fmt = formatOf(s, info);
  const card = $("format-card");
  card.classList.toggle("hidden", !info && !s);
  card.dataset.format = fmt;
  $("format-title").textContent = t("fmt_title", { name: t(`fmt_${fmt}`) });
  $("format-terms").textContent = terms(fmt, s, info);
  $("round-line").textContent = roundLine(s);
  $("round-line").classList.toggle("hidden", !roundLine(s));
  const open = s?.status === "open";
  $("sealed-box").classList.toggle("hidden", fmt !== "sealed");
  $("quotes").textContent = t("fmt_quotes_n", { n: s?.quotes ?? 0 });
  $("dutch-box").classList.toggle("hidden", fmt !== "dutch");
  if (fmt === "dutch") renderDutch(s, conn, may);
  // an absentee proxy may be left before the opening (it bids then)
  const proxy = fmt === "english" && (open || s?.status === "scheduled") && may;
  $("proxy-form").classList.toggle("hidden", !proxy);
  const mine = feed.mine;
  const lines = [];
  if (mine?.proxy_max) lines.push(t("fmt_my_proxy", { amount: yuan(mine.proxy_max) }));
  if (mine?.quote) {
    lines.push(t("fmt_my_quote", { amount: yuan(mine.quote), n: mine.revisions_left ?? 0 }));
  }
  if (mine?.preempt_order) lines.push(t("fmt_preempt_mine", { n: mine.preempt_order }));
  const line = lines.join(" ");
  // R9: a holder may match the high (the room refuses it when the leader's right is as good)
  const match = Boolean(mine?.preempt_order) && open && may && s.bids > 0
    && s.paddle !== ctx.paddle && ["english", "rounds"].includes(fmt);
  $("preempt").classList.toggle("hidden", !match);
  if (match) {
    $("preempt").textContent = t("fmt_preempt_btn", { amount: yuan(s.high) });
    $("preempt").dataset.amount = String(s.high);
  }
  $("mine").textContent = line;
  $("mine").classList.toggle("hidden", !line);
  const fb = $("format-feedback");
  fb.textContent = feedback ? feedback.text : "";
  fb.className = `feedback ${feedback ? feedback.kind : ""}`;
}

function renderDutch(s, conn, may) {
  const open = s?.status === "open";
  const { price, nextDrop } = dutchPrice(s, conn.now());
  $("dutch-price").textContent = yuan(open ? price : s?.start);
  $("dutch-price").dataset.fen = String(open ? price : s?.start || 0);
  let next = "—";
  if (open && nextDrop) {
    const left = Math.max(0, Math.ceil((nextDrop - conn.now()) / 1000));
    next = `${clock(nextDrop)} (${left} s)`;
  } else if (open) next = t("fmt_at_floor");
  $("dutch-next").textContent = next;
  $("accept").classList.toggle("hidden", !(open && may));
}

/** Wire the proxy form and the accept button once; ``after`` redraws the page. */
export function setupFormat({ conn, feed, lotId, after }) {
  $("proxy-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const amount = parseYuan($("proxy-max").value);
    if (!Number.isInteger(amount) || amount <= 0) {
      feedback = { text: t("err_amount"), kind: "bad" };
      after();
      return;
    }
    const answer = await conn.proxy(lotId, amount);
    if (answer.t === "ack") {
      feed.mine = { ...(feed.mine || {}), proxy_max: answer.max };
      feedback = { text: t("fmt_proxy_ok", { amount: yuan(answer.max) }), kind: "good" };
      $("proxy-max").value = "";
    } else {
      let message = nackText(answer);
      if (answer.minimum) message += ` (${yuan(answer.minimum)})`;
      feedback = { text: t("rejected", { message }), kind: "bad" };
    }
    after();
  });
  $("preempt").addEventListener("click", async () => {
    const amount = Number($("preempt").dataset.amount);
    const answer = await conn.bid(lotId, amount);
    feedback = answer.t === "ack"
      ? { text: `${t("accepted")}: ${yuan(amount)}`, kind: "good" }
      : { text: t("rejected", { message: nackText(answer) }), kind: "bad" };
    after();
  });
  $("accept").addEventListener("click", async () => {
    const answer = await conn.accept(lotId);
    feedback = answer.t === "ack"
      ? { text: t("fmt_accept_ok", { amount: yuan(feed.state?.high) }), kind: "good" }
      : { text: t("rejected", { message: nackText(answer) }), kind: "bad" };
    after();
  });
}

/** A sealed quote's ack: the bidder's own quote (its revisions left one fewer). */
export function quoteAcked(feed, amount) {
  const had = feed.mine?.quote !== undefined;
  const left = had ? Math.max(0, (feed.mine.revisions_left ?? 1) - 1)
    : (feed.state?.revisions ?? 0);
  feed.mine = { ...(feed.mine || {}), quote: amount, revisions_left: left };
}
