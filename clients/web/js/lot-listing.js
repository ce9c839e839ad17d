// A listing (挂牌, docs/formats.md "Listing") on the bidder page: its price, its period and
// how many buyers have qualified (意向受让方: never who), and how it ended — 挂牌期满无意向受让方,
// 协议成交 with its one buyer, or an auction among them (then the page is an ordinary timed
// auction below this card). Everything comes from the lot's public JSON (``listing``).
import { addTexts, dateTime, el, t, yuan } from "./common.js";

addTexts({
  zh: {
    lst_title: "挂牌",
    lst_status: "挂牌中",
    lst_agreement_bid: "协议成交",
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
  },
  en: {
    lst_title: "Listing",
    lst_status: "Listed",
    lst_agreement_bid: "by agreement",
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
