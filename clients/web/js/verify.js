// 成交确认书核验 (verify.html?lot=ID&digest=…), what the document's QR code opens: the facts the
// server holds for the lot, asked with the bid-log digest printed on the document
// (GET /api/v1/lots/{id}/confirmation?digest=…, docs/http-api.md "成交确认书"). A natural
// person buyer is masked by the server as 成交公示 masks one. Without both values in the address,
// or to check a printed copy, the two can be typed in.
import { api, dateTime, el, lang, param, setupLang, yuan } from "./common.js";

const $ = (id) => document.getElementById(id);

const TEXT = {
  zh: {
    title: "成交确认书核验", check: "核验", answer: "核验结果", lot_id: "标的编号",
    digest: "出价记录摘要 (SHA-256)",
    intro: "扫描成交确认书上的二维码, 或输入标的编号和出价记录摘要, 查看服务器所存的同一笔成交。",
    ok: "核验通过: 以下是服务器所存的这笔成交, 应与确认书所载一致。",
    not_found: "没有与该标的编号和摘要相符的成交确认书: 请核对确认书上的数字, 或向技术市场查询。",
    need_both: "请填写标的编号 (数字) 和 64 位出价记录摘要。",
    number: "确认书编号", market: "技术市场", session: "场次", lot: "标的", type: "成果类型",
    mode: "交易方式", seller: "出让方", seller_uscc: "出让方统一社会信用代码", buyer: "买受人",
    buyer_uscc: "买受人统一社会信用代码", buyer_id: "买受人公民身份号码", paddle: "竞买号牌",
    price: "成交价 (小写)", capitals: "成交价 (大写)", hammer: "落槌时间 (北京时间)",
    deposit: "保证金抵作价款", balance: "应付余款", due: "余款付款期限", bids: "出价次数",
    sha: "出价记录摘要", no: "第 {n} 号",
  },
  en: {
    title: "Verify a deal confirmation", check: "Verify", answer: "Result", lot_id: "Lot number",
    digest: "Bid-log digest (SHA-256)",
    intro: "Scan the QR code on the deal confirmation, or type its lot number and bid-log digest, to see the same sale as the server holds it.",
    ok: "Verified: this is the sale as the server holds it; it should match the document.",
    not_found: "No deal confirmation matches this lot number and digest: check the numbers on the document, or ask the market.",
    need_both: "Enter the lot number and the 64-character bid-log digest.",
    number: "Document no.", market: "Market", session: "Session", lot: "Lot", type: "Result type",
    mode: "Transaction", seller: "Seller", seller_uscc: "Seller's credit code", buyer: "Buyer",
    buyer_uscc: "Buyer's credit code", buyer_id: "Buyer's ID number", paddle: "Paddle",
    price: "Price", capitals: "Price in words", hammer: "Hammer time (China)",
    deposit: "Deposit applied", balance: "Balance due", due: "Balance due by", bids: "Bids",
    sha: "Bid-log digest", no: "No. {n}",
  },
};

function v(key, vars = {}) {
  const text = TEXT[lang()][key] ?? TEXT.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

let facts = null; // the server's answer
let verdict = null; // "ok" | "not_found" | "need_both" | an error message

function fact(label, value) {
  return el("div", { class: "fact" }, el("dt", { text: v(label) }),
    el("dd", { class: "num", text: value ?? "—" }));
}

function render() {
  for (const node of document.querySelectorAll("[data-v]")) node.textContent = v(node.dataset.v);
  $("answer").classList.toggle("hidden", !verdict);
  const box = $("verdict");
  box.textContent = verdict && TEXT.zh[verdict] ? v(verdict) : verdict || "";
  box.className = `notice ${verdict === "ok" ? "good" : "bad"}`;
  const list = $("facts");
  list.textContent = "";
  if (verdict !== "ok" || !facts) return;
  const f = facts;
  const person = f.buyer?.kind === "person";
  list.append(
    fact("number", f.number),
    fact("market", `${f.market?.name} (${f.market?.code})`),
    fact("session", f.session?.name),
    fact("lot", `${v("no", { n: f.lot?.ordinal })} ${f.lot?.title}`),
    fact("type", `${f.lot?.result_type} / ${f.lot?.ip_type}`),
    fact("mode", f.lot?.transaction_mode),
    fact("seller", f.seller?.name),
    fact("seller_uscc", f.seller?.uscc),
    fact("buyer", f.buyer?.name),
    fact(person ? "buyer_id" : "buyer_uscc", person ? f.buyer?.resident_id : f.buyer?.uscc),
    fact("paddle", String(f.paddle ?? "—")),
    fact("price", yuan(f.amount_fen)),
    fact("capitals", `人民币${f.amount_capitals}`),
    fact("hammer", dateTime(f.hammer_at)),
    fact("deposit", yuan(f.deposit_applied_fen)),
    fact("balance", yuan(f.balance_fen)),
    fact("due", f.balance_due_on),
    fact("bids", String(f.bid_count)),
    fact("sha", f.bid_log_sha256),
  );
}

async function verify(lot, digest) {
  facts = null;
  if (!/^[0-9]+$/.test(lot) || !/^[0-9a-fA-F]{64}$/.test(digest)) {
    verdict = "need_both";
    render();
    return;
  }
  try {
    facts = await api(`/lots/${lot}/confirmation?digest=${encodeURIComponent(digest)}`);
    verdict = "ok";
  } catch (err) {
    verdict = err.status === 404 || err.status === 400 ? "not_found" : err.message;
  }
  render();
}

$("ask").addEventListener("submit", (event) => {
  event.preventDefault();
  const lot = $("lot").value.trim();
  const digest = $("digest").value.trim();
  history.replaceState(null, "", `?${new URLSearchParams({ lot, digest })}`);
  verify(lot, digest);
});

setupLang($("lang"), render);
const lot = param("lot") || "";
const digest = param("digest") || "";
$("lot").value = lot;
$("digest").value = digest;
if (lot || digest) verify(lot, digest);
