// The lot's format on 新增标的 (docs/formats.md): the choice of 竞价规则 and the terms each
// format takes (sealed: revisions; dutch: step, interval, floor; rounds: free phase and round
// length; listing: its period in working days), plus the preemptive rights' window. Set at creation only (an edit cannot change it).
import { fieldError } from "./account.js";
import { parseYuan } from "./common.js";
import { $, a, addA } from "./admin.js";

addA({
  zh: {
    fmt_label: "竞价规则", fmt_english: "增价拍卖 (可委托出价)", fmt_sealed: "密封报价 (一次报价)",
    fmt_dutch: "减价拍卖", fmt_rounds: "自由报价 + 限时轮次", fmt_revisions: "可修改报价次数",
    fmt_step: "每次降价 (元)", fmt_interval: "降价间隔 (秒)", fmt_floor: "最低价 (元)",
    fmt_free: "自由报价时长 (分钟)", fmt_round: "每轮限时 (秒)",
    fmt_preempt_window: "优先购买权窗口 (秒, 限时标的)", fmt_whole: "请填写正整数",
    fmt_listing: "挂牌 (期满一家协议成交, 多家转竞价)", fmt_listing_days: "挂牌期 (工作日)",
  },
  en: {
    fmt_label: "Format", fmt_english: "Ascending (proxy bids)", fmt_sealed: "Sealed quotes",
    fmt_dutch: "Dutch (descending)", fmt_rounds: "Free bidding, then timed rounds",
    fmt_revisions: "Quote revisions allowed", fmt_step: "Price drop (yuan)",
    fmt_interval: "Drop interval (s)", fmt_floor: "Floor price (yuan)",
    fmt_free: "Free bidding (minutes)", fmt_round: "Round length (s)",
    fmt_preempt_window: "Preemption window (s, timed lots)", fmt_whole: "A whole number, please",
    fmt_listing: "Listing (one buyer: by agreement; more: auction)",
    fmt_listing_days: "Listing period (working days)",
  },
});

const FORMATS = ["english", "sealed", "dutch", "rounds", "listing"];
/** The form's element id of each format field of POST /sessions/{id}/lots. */
export const FORMAT_IDS = { format: "format", revisions: "revisions", step_fen: "step",
  interval_s: "interval", floor_fen: "floor", free_s: "free", round_s: "round",
  preempt_window_s: "preempt-window", listing_days: "listing-days",
  listing_ends_at: "listing-days" };

/** Fill the choice (keeping the chosen one) and show the chosen format's fields. */
export function paintFormat() {
  const keep = $("format").value || "english";
  $("format").replaceChildren(...FORMATS.map((f) => {
    const option = document.createElement("option");
    option.value = f;
    option.textContent = a(`fmt_${f}`);
    option.selected = f === keep;
    return option;
  }));
  for (const box of document.querySelectorAll("[data-format]")) {
    box.classList.toggle("hidden", box.dataset.format !== keep);
  }
}

function whole(id, min) {
  const v = $(id).value.trim();
  if (!/^\d+$/.test(v) || Number(v) < min) {
    fieldError(id, a("fmt_whole"));
    return null;
  }
  return Number(v);
}

/** The format's part of the body, or null with the bad fields named. */
export function readFormat() {
  const format = $("format").value || "english";
  const body = { format };
  const window = whole("preempt-window", 0);
  let bad = window === null;
  body.preempt_window_s = window;
  const need = (key, value) => {
    if (value === null) bad = true;
    else body[key] = value;
  };
  if (format === "sealed") need("revisions", whole("revisions", 0));
  if (format === "dutch") {
    for (const [key, id] of [["step_fen", "step"], ["floor_fen", "floor"]]) {
      const fen = parseYuan($(id).value.trim());
      if (fen === null || fen <= 0) { fieldError(id, a("f_amount")); bad = true; } else body[key] = fen;
    }
    need("interval_s", whole("interval", 1));
  }
  if (format === "listing") need("listing_days", whole("listing-days", 1));  // 挂牌期
  if (format === "rounds") {
    const free = whole("free", 1);
    need("free_s", free === null ? null : free * 60);
    need("round_s", whole("round", 1));
  }
  return bad ? null : body;
}

/** Name the server's refused format field under its input; true when it is one of them. */
export function formatError(err) {
  const id = FORMAT_IDS[err.field];
  if (!id) return false;
  fieldError(id, err.message);
  return true;
}

$("format").addEventListener("change", paintFormat);
