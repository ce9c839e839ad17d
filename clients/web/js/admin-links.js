// The back office's links to 市场与人员, 保证金台账, 操作记录, 统计, 财务, 场次报告 and 编辑场次 on /admin/
// and on a session's page: each [data-link] element is shown only to the roles that may use its page
// (admin.js ``may``), its href filled from the login (home market) or the page's ?id=.
import { param } from "./common.js";
import { call, may } from "./admin.js";

async function show() {
  const me = await call("/auth/me").catch(() => null);
  if (!me) return;
  const session = Number(param("id")) || 0;
  const market = me.account?.market_code || (me.scope || [])[0] || "";
  const href = {
    markets: "markets.html",
    ledger: market ? `ledger.html?market=${market}` : "",
    finance: session ? `finance.html?session=${session}` : "",
    report: session ? `report.html?session=${session}` : "",
    deals: session ? `deals.html?session=${session}` : "", // issue 13: payments, objections
    audit: market ? `audit.html?market=${market}` : "",
    statistics: market ? `statistics.html?market=${market}` : "", // issue 16: statistics
    edit: session ? `session-edit.html?id=${session}` : "",
  };
  for (const link of document.querySelectorAll("[data-link]")) {
    const what = link.dataset.link;
    const right = { ledger: "finance", edit: "manage", deals: "finance" }[what] || what;
    if (href[what] && may(me.role, right)) {
      link.href = href[what];
      link.classList.remove("hidden");
    }
  }
}

show();
