// 技术合同成交统计 (/admin/statistics.html?market=CODE&from=&to=): GET /markets/{code}/statistics
// (docs/http-api.md "Statistics"): totals of settled (成交) and registered (已登记) contracts of the
// market's subtree for the period, the child markets and the market's own sessions (their sums are
// the totals), each breakdown as a bar chart and a table, and the subsidy estimates (预估). Charts
// are inline SVG drawn here: no library, no CDN. Exports: statistics.csv / statistics.xlsx with the
// same period. Market admins, finance and the platform admin (the server decides).
import { el, lang, param, wan, yuan } from "./common.js";
import { $, call, errText, gate, may, myMarkets, roleText, say, setupPage, whoAmI }
  from "./admin.js";

const SVG = "http://www.w3.org/2000/svg";

// this page's texts (kept here, not in admin.js, so the page stays one file to read)
const TEXT = {
  zh: {
    title: "技术合同成交统计: {name}", market: "技术市场", from: "起 (年、季、月或日期)",
    to: "止 (年、季、月或日期)", show: "统计", csv: "导出 CSV", xlsx: "导出 Excel",
    hint: "期间可写 2026 (全年)、2026-Q2 (季度)、2026-05 (月) 或 2026-05-20 (日); 成交按成交日计, 已登记按登记日计; 金额为 合同交易总额 / 技术交易额。",
    parts: "下级市场与本级场次", subsidy: "补贴预估", settled: "成交", registered: "已登记",
    count: "笔数", total: "合同交易总额", tech: "技术交易额", estimate: "补贴 (预估)",
    item: "项目", sum: "合计", child: "下级市场", session: "本级场次", none: "该期间没有成交的技术合同。",
    period: "期间: {from} 至 {to}", open: "不限", no_parts: "没有下级市场, 也没有本级场次的成交。",
    chart: "{name}: 各项成交合同交易总额", rules: "适用的补贴规则", no_rules: "该市场及上级市场没有补贴规则。",
    rule_line: "{name}: {side} {natures}, {types}, 按{base}的 {rate}%, 每方每年上限 {cap}",
    paid: "实际支付额", total_base: "合同交易总额", tech_base: "技术交易额",
    seller: "输出方", buyer: "吸纳方", lot: "标的", party: "主体", year: "年度",
    uncapped: "按比例", capped: "已达上限", estimate_note: "以下均为预估, 以主管部门核定为准。",
    no_estimates: "该期间没有可预估补贴的已登记合同。",
  },
  en: {
    title: "Technology-contract statistics: {name}", market: "Market",
    from: "From (year, quarter, month or date)", to: "To (year, quarter, month or date)",
    show: "Show", csv: "Export CSV", xlsx: "Export Excel",
    hint: "A period is 2026 (year), 2026-Q2 (quarter), 2026-05 (month) or 2026-05-20 (day); settled contracts count on the day the lot closed, registered ones on the day the office registered them; amounts are the contract total / the technology amount.",
    parts: "Child markets and own sessions", subsidy: "Subsidy estimates", settled: "Settled",
    registered: "Registered", count: "Contracts", total: "Contract total", tech: "Technology amount",
    estimate: "Subsidy (estimate)", item: "Item", sum: "Total", child: "Child market", session: "Own session",
    none: "No technology contract settled in this period.", period: "Period: {from} to {to}",
    open: "open", no_parts: "No child markets and no sales in own sessions.",
    chart: "{name}: contract total of each item", rules: "Subsidy rules that apply",
    no_rules: "Neither this market nor a market above it has subsidy rules.",
    rule_line: "{name}: {side} {natures}, {types}, {rate}% of the {base}, capped at {cap} per party and year",
    paid: "amount paid", total_base: "contract total", tech_base: "technology amount",
    seller: "seller side", buyer: "buyer side", lot: "Lot", party: "Party", year: "Year",
    uncapped: "By rate", capped: "capped", estimate_note: "All figures below are estimates; the authority decides.",
    no_estimates: "No registered contract with a subsidy estimate in this period.",
  },
};

function s(key, vars = {}) {
  const text = TEXT[lang()][key] ?? TEXT.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

let me = null;
let markets = [];
let data = null;

function applyS() {
  for (const node of document.querySelectorAll("[data-s]")) node.textContent = s(node.dataset.s);
}

/** A horizontal bar chart of ``rows`` ({label, settled, registered} in fen), ``width`` px wide
 * (one unit a pixel, so the text keeps its size at any width): two bars a row (成交 red, 已登记
 * blue), the label above, the amount in 万元 at the bar's end. */
function bars(rows, name, width) {
  const rowH = 46;
  const labelW = 0;
  const max = Math.max(1, ...rows.flatMap((r) => [r.settled, r.registered]));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${rows.length * rowH + 4}`);
  svg.setAttribute("class", "bars");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", s("chart", { name }));
  const add = (parent, tag, attrs, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    parent.append(node);
    return node;
  };
  rows.forEach((r, i) => {
    const y = i * rowH;
    const g = add(svg, "g", {});
    add(g, "title", {}, `${r.label}: ${s("settled")} ${wan(r.settled)}, ${s("registered")} ${wan(r.registered)}`);
    add(g, "text", { x: labelW, y: y + 13 }, r.label);
    const room = Math.max(40, width - labelW - 110);
    const ws = Math.round((r.settled / max) * room);
    const wr = Math.round((r.registered / max) * room);
    add(g, "rect", { class: "s", x: labelW, y: y + 18, width: Math.max(ws, 1), height: 11, rx: 2 });
    add(g, "text", { class: "v", x: labelW + ws + 6, y: y + 28 }, wan(r.settled));
    add(g, "rect", { class: "r", x: labelW, y: y + 31, width: Math.max(wr, 1), height: 11, rx: 2 });
    add(g, "text", { class: "v", x: labelW + wr + 6, y: y + 41 }, wan(r.registered));
  });
  return svg;
}

function legend() {
  return el("div", { class: "legend", "aria-hidden": "true" },
    el("span", {}, el("span", { class: "key s" }), `${s("settled")} ${s("total")}`),
    el("span", {}, el("span", { class: "key r" }), `${s("registered")} ${s("total")}`));
}

/** A table of figures: item, 成交 count / total / tech, 已登记 count / total / tech. */
function figures(rows, first = "item") {
  const head = [s(first), `${s("settled")}${s("count")}`, `${s("settled")}${s("total")}`,
    `${s("settled")}${s("tech")}`, `${s("registered")}${s("count")}`,
    `${s("registered")}${s("total")}`, `${s("registered")}${s("tech")}`];
  return el("div", { class: "scroll-x" }, el("table", { class: "admin-table stats" },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {},
      el("th", { scope: "row", text: r.label }),
      el("td", { text: String(r.settled.count) }), el("td", { text: wan(r.settled.total_fen) }),
      el("td", { text: wan(r.settled.tech_fen) }), el("td", { text: String(r.registered.count) }),
      el("td", { text: wan(r.registered.total_fen) }),
      el("td", { text: wan(r.registered.tech_fen) }))))));
}

function chartRows(rows) {
  return rows.map((r) => ({ label: r.label, settled: r.settled.total_fen,
    registered: r.registered.total_fen }));
}

const charts = new Map(); // placeholder → [rows, name]

/** A placeholder the chart is drawn into once it is in the page (:func:`drawCharts`). */
function chart(rows, name) {
  const box = el("div", { class: "chart" });
  charts.set(box, [chartRows(rows), name]);
  return box;
}

function drawCharts() {
  for (const [box, [rows, name]] of charts) {
    if (!box.isConnected) {
      charts.delete(box);
      continue;
    }
    box.replaceChildren(bars(rows, name, Math.max(240, Math.floor(box.clientWidth))));
  }
}

let resizing = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(drawCharts, 100);
});

function card(kind, sums) {
  const lines = [[s("count"), String(sums.count)], [s("total"), yuan(sums.total_fen)],
    [s("tech"), yuan(sums.tech_fen)]];
  if (kind === "registered") {
    lines.push([s("estimate"), yuan(sums.subsidy_estimate_fen)]);
  }
  return el("section", { class: "card", "aria-label": s(kind) }, el("h2", { text: s(kind) }),
    el("dl", {}, ...lines.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])));
}

function ruleText(set, rule) {
  const base = { paid: s("paid"), total: s("total_base"), tech: s("tech_base") }[rule.base];
  return s("rule_line", { name: `${set.name} · ${rule.name}`, side: s(rule.side),
    natures: rule.natures.join("、"), types: rule.contract_types.join("、"), base,
    rate: (rule.rate_bp / 100).toString(), cap: yuan(rule.cap_fen) });
}

function paintSubsidy() {
  const sub = data.subsidy;
  const box = [el("p", {}, el("span", { class: "badge estimate", text: sub.label }), " ",
    s("estimate_note"))];
  box.push(el("h3", { text: s("rules") }));
  if (!sub.rule_sets.length) box.push(el("p", { class: "muted", text: s("no_rules") }));
  else {
    box.push(el("ul", {}, ...sub.rule_sets.flatMap((set) => set.rules.map((rule) =>
      el("li", { text: ruleText(set, rule) })))));
  }
  if (!sub.estimates.length) box.push(el("p", { class: "muted", text: s("no_estimates") }));
  else {
    box.push(el("div", { class: "scroll-x" }, el("table", { class: "admin-table stats" },
      el("thead", {}, el("tr", {}, ...[s("lot"), s("year"), s("party"), s("uncapped"),
        s("estimate")].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...sub.estimates.map((e) => el("tr", {},
        el("th", { scope: "row", text: `#${e.lot_id} · ${e.rule}` }), el("td", { text: String(e.year) }),
        el("td", { text: `${s(e.side)} ${e.party_key}` }), el("td", { text: yuan(e.uncapped_fen) }),
        el("td", {}, `${yuan(e.estimate_fen)} `, el("span", { class: "badge estimate", text: e.label }),
          e.capped ? ` ${s("capped")}` : "")))))));
  }
  $("subsidy").replaceChildren(...box);
}

function paint() {
  applyS();
  if (!me || !data) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  const m = data.market;
  const title = s("title", { name: `${m.name} (${m.code})` });
  $("title").textContent = title;
  document.title = `${title}`;
  const span = s("period", { from: data.period.from || s("open"), to: data.period.to || s("open") });
  $("period").textContent = span;
  $("cards").replaceChildren(card("settled", data.totals.settled),
    card("registered", data.totals.registered));
  const parts = [
    ...data.children.map((c) => ({ ...c, label: `${s("child")} · ${c.name}` })),
    ...data.sessions.map((x) => ({ ...x, label: `${s("session")} · ${x.name}` })),
  ];
  $("parts").replaceChildren(...(parts.length ? [legend(), chart(parts, s("parts")),
    figures([...parts, { label: s("sum"), ...data.totals }])]
    : [el("p", { class: "muted", text: s("no_parts") })]));
  const sections = Object.entries(data.breakdowns).map(([key, b]) => el("section",
    { class: "card", "aria-labelledby": `b-${key}` }, el("h2", { id: `b-${key}`, text: b.label }),
    ...(b.rows.length ? [legend(), chart(b.rows, b.label), figures(b.rows)]
      : [el("p", { class: "muted", text: s("none") })])));
  $("breakdowns").replaceChildren(...sections);
  paintSubsidy();
  drawCharts();
}

function query() {
  const q = new URLSearchParams();
  for (const k of ["from", "to"]) {
    const v = $(k).value.trim();
    if (v) q.set(k, v);
  }
  return q;
}

async function fetchStats() {
  const code = $("market").value;
  const q = query();
  const base = `/api/v1/markets/${encodeURIComponent(code)}/statistics`;
  const tail = q.toString() ? `?${q}` : "";
  $("csv").href = `${base}.csv${tail}`;
  $("xlsx").href = `${base}.xlsx${tail}`;
  data = await call(`/markets/${encodeURIComponent(code)}/statistics${tail}`);
  paint();
}

$("filter").addEventListener("submit", async (e) => {
  e.preventDefault();
  say($("msg"), "");
  for (const k of ["from", "to"]) $(k).removeAttribute("aria-invalid");
  const q = query();
  q.set("market", $("market").value);
  history.replaceState(null, "", `?${q}`);
  try {
    await fetchStats();
  } catch (err) {
    if (err.field === "from") {
      $("from").setAttribute("aria-invalid", "true");
      $("to").setAttribute("aria-invalid", "true");
    }
    say($("msg"), () => errText(err), "bad");
  }
});

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "statistics")) {
    gate("no_right");
    return;
  }
  markets = await myMarkets(me);
  const code = param("market") || me.account?.market_code || markets[0]?.code || "";
  if (!markets.some((m) => m.code === code)) {
    gate("no_market_access");
    return;
  }
  $("market").replaceChildren(...markets.map((m) => el("option", { value: m.code,
    text: `${m.name} (${m.code})`, selected: m.code === code })));
  for (const k of ["from", "to"]) $(k).value = param(k) || "";
  $("content").classList.remove("hidden");
  await fetchStats();
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
