// A listing (挂牌, docs/formats.md "Listing") on the bidder page: its price, its period and
// how many buyers have qualified (意向受让方: never who), and how it ended — 挂牌期满无意向受让方,
// 协议成交 with its one buyer, or an auction among them (then the page is an ordinary timed
// auction below this card). Everything comes from the lot's public JSON (``listing``).
import { addTexts, dateTime, duration, el, t, yuan } from "./common.js";

addTexts({
  zh: {
    lst_title: "挂牌",
    lst_status: "挂牌中",
    lst_agreement_bid: "协议成交",
    lst_status_agreement: "协议成交",
    lst_deal_price: "成交价",
    lst_price: "挂牌价",
    lst_period: "挂牌期",
    lst_days: "{n} 个工作日",
    lst_buyers: "意向受让方",
    lst_buyers_n: "{n} 家",
    lst_state: "挂牌状态",
    lst_listing: "挂牌中: 挂牌期满时, 仅一家意向受让方则按挂牌价协议成交, 两家及以上则转为限时竞价",
    lst_expired: "挂牌期满, 无意向受让方",
    lst_agreement: "协议成交 (挂牌期满仅一家意向受让方, 按挂牌价成交)",
    lst_auction: "已转为限时竞价: 仅挂牌期满时的 {n} 家意向受让方可出价",
    lst_how: "有意受让者请报名并缴纳保证金, 经审核、保证金确认后即为意向受让方",
    e_listing_period: "挂牌期内不接受出价, 挂牌期满后按意向受让方人数协议成交或竞价",
    lst_banner_listing: "挂牌中 · 挂牌期至 {end}",
    lst_banner_ending: "挂牌期满, 正在确定结果",
    lst_banner_expired: "挂牌期满 无意向受让方",
    lst_banner_agreement: "协议成交 {price}",
    lst_clock: "距挂牌期满",
    lst_ends: "挂牌截止",
    lst_days_left: "{d} 天 {rest}",
  },
  en: {
    lst_title: "Listing",
    lst_status: "Listed",
    lst_agreement_bid: "by agreement",
    lst_status_agreement: "Sold by agreement",
    lst_deal_price: "Agreed price",
    lst_price: "Listing price",
    lst_period: "Listing period",
    lst_days: "{n} working days",
    lst_buyers: "Qualified buyers",
    lst_buyers_n: "{n}",
    lst_state: "State",
    lst_listing: "Listed: at the end, one qualified buyer buys at the listing price; two or more bid in a timed auction",
    lst_expired: "Listing expired with no qualified buyer",
    lst_agreement: "Sold by agreement to its one qualified buyer at the listing price",
    lst_auction: "Now a timed auction: only the {n} buyers qualified at the end may bid",
    lst_how: "To buy, register for the session and pay the deposit: once approved and confirmed you are a qualified buyer",
    e_listing_period: "No bids during the listing period: at its end the lot is sold by agreement or auctioned",
    lst_banner_listing: "Listed · until {end}",
    lst_banner_ending: "Listing period over: the outcome is being decided",
    lst_banner_expired: "Listing expired: no qualified buyer",
    lst_banner_agreement: "Sold by agreement {price}",
    lst_clock: "Listing ends in",
    lst_ends: "Listing ends",
    lst_days_left: "{d} d {rest}",
  },
});

const $ = (id) => document.getElementById(id);

function row(key, value, name) {
  return el("div", { class: "fact", "data-fact": name },
    el("dt", { text: t(key) }), el("dd", {}, value));
}

/** Fill the listing card from the lot's JSON; hidden for a lot that is no listing. */
export function renderListing(info) {
  const card = $("listing-card");
  const listing = info?.listing;
  card.classList.toggle("hidden", !listing);
  if (!listing) return;
  card.dataset.state = listing.state;
  const period = `${dateTime(listing.starts_at)} – ${dateTime(listing.ends_at)}`
    + (listing.working_days ? ` (${t("lst_days", { n: listing.working_days })})` : "");
  const state = t(`lst_${listing.state}`, { n: listing.buyers });
  const box = $("listing-facts");
  box.textContent = "";
  box.append(
    row("lst_price", el("strong", { class: "num", text: yuan(listing.price_fen) }), "price"),
    row("lst_period", el("span", { class: "num", text: period }), "period"),
    row("lst_buyers", el("strong", { class: "num",
      text: t("lst_buyers_n", { n: listing.buyers }) }), "buyers"),
    row("lst_state", state, "state"),
  );
  $("listing-how").classList.toggle("hidden", listing.state !== "listing");
}

/** The listing's state on the page: ``listing`` while the room waits for the period's end,
 * else the recorded outcome (``expired``, ``agreement``, ``auction``); null for another lot.
 * ``status`` is the room's (or the lot's) status: a room that has ended the listing wins over a
 * lot JSON read before the end. */
export function listingState(info, status) {
  const listing = info?.listing;
  if (!listing) return null;
  if (listing.state !== "listing") return listing.state;
  if (status === "scheduled" || !status) return "listing";
  if (status === "sold") return "agreement";
  if (status === "passed") return "expired";
  return status === "open" ? "auction" : null;
}

/** The banner of a listing (``{state, text}``), or null: 挂牌中 with the period's end during
 * it, 挂牌期满 无意向受让方 after an expiry, 协议成交 with the price after an agreement; an
 * auction it became has the ordinary banners. ``now`` is server time (ms). */
export function listingBanner(info, status, now) {
  const state = listingState(info, status);
  const listing = info?.listing;
  if (state === "listing") {
    const over = Date.parse(listing.ends_at) <= now;
    return { state: over ? "listing-ending" : "listing",
      text: over ? t("lst_banner_ending")
        : t("lst_banner_listing", { end: dateTime(listing.ends_at) }) };
  }
  if (state === "expired") return { state: "listing-expired", text: t("lst_banner_expired") };
  if (state === "agreement") {
    const price = info?.result?.amount_fen || listing.price_fen;
    return { state: "listing-agreement", text: t("lst_banner_agreement", { price: yuan(price) }) };
  }
  return null;
}

/** The countdown to the listing's end during the period (``{label, text, endsAt, urgent}``),
 * or null: server time, days shown as such (a period runs for weeks). */
export function listingClock(info, status, now) {
  if (listingState(info, status) !== "listing") return null;
  const end = Date.parse(info.listing.ends_at);
  const left = Math.max(0, end - now);
  const days = Math.floor(left / 86_400_000);
  let rest = duration(left - days * 86_400_000);
  if (days && rest.length < 6) rest = `0:${rest}`;  // "28 天 0:42:29", never "28 天 42:29"
  return { label: t("lst_clock"), endsAt: end, urgent: left < 60_000,
    text: days ? t("lst_days_left", { d: days, rest }) : rest,
    ends: `${t("lst_ends")} ${dateTime(end)}` };
}
