// The market's back office (/admin/…): shared texts (中文 and English, marked data-a /
// data-a-ph / data-a-aria so common.js and account.js leave them alone), who is logged in
// (GET /auth/me with the cookie login), what each role may see (docs/roles.md), and the
// writes, every one with the CSRF header (docs/http-api.md "Cookie login").
import { lang, setupLang, yuan } from "./common.js";
import { call, post } from "./account.js";

export { call, post };

const DICT = {
  zh: {
    admin: "技术市场后台",
    home: "后台首页",
    catalogue: "场次与标的",
    logout: "退出",
    need_login: "请先用技术市场的工作人员账号登录。",
    go_login: "去登录",
    not_staff: "当前登录的不是技术市场工作人员账号, 后台不可用。",
    who: "当前账号",
    role: "角色",
    markets_title: "我的技术市场",
    whoami: "当前账号: {name} · {role} · {market}",
    all_markets: "全部技术市场",
    role_admin: "平台管理员",
    role_market_admin: "市场管理员",
    role_auctioneer: "拍卖师",
    role_finance: "财务",
    role_bidder: "竞买人",
    no_markets: "没有可管理的技术市场",
    no_sessions: "暂无场次",
    no_lots: "暂无标的",
    no_access: "该场次不属于您的技术市场, 无权查看。",
    new_session: "新建场次",
    sessions: "场次",
    session_name: "场次名称",
    starts_at: "开始时间",
    mode: "竞价方式",
    mode_live: "现场竞价",
    mode_timed: "限时竞价",
    season: "季别",
    season_spring: "春季",
    season_autumn: "秋季",
    season_special: "专场",
    status: "状态",
    lot_count: "标的数",
    open: "管理",
    loading: "加载中…",
    err: "请求失败: {message}",
    err_fix: "请按提示修改标出的项目",
    f_required: "请填写{label}",
    f_amount: "请输入金额 (元), 最多两位小数",
    f_int: "请输入整数",
    f_uscc: "统一社会信用代码应为 18 位 (数字和大写字母), 最后一位校验码不符",
    f_bands: "加价幅度表: 第一档须从 0 元起, 各档起点递增, 加价幅度大于 0",
    // session form
    market: "所属技术市场",
    ext_window: "延时触发时段 (秒)",
    ext_window_hint: "限时竞价: 结束前这段时间内有出价即延时",
    ext_s: "每次延时 (秒)",
    increments: "加价幅度表",
    band_from: "价格起点 (元)",
    band_inc: "加价幅度 (元)",
    band_n: "第 {n} 档",
    add_band: "增加一档",
    remove_band: "删除第 {n} 档",
    announcement: "拍卖公告",
    terms: "竞买须知",
    reg_deadline: "报名截止时间",
    contact_phone: "咨询电话",
    payee_name: "保证金收款单位",
    payee_bank: "开户银行",
    payee_account: "收款账号",
    create_session: "创建场次",
    session_created: "场次已创建",
    // session page
    session_title: "场次: {name}",
    facts: "场次信息",
    ext_rule: "延时规则",
    ext_rule_text: "结束前 {w} 秒内出价, 延时 {e} 秒",
    lots: "标的",
    new_lot: "新增标的",
    ordinal: "序号",
    title: "标的名称",
    start_price: "起拍价",
    increment: "加价幅度",
    deposit: "保证金",
    progress: "场次进度",
    registered: "报名人数",
    lots_total: "标的总数",
    lots_sold: "已成交",
    lots_passed: "流拍",
    lots_open: "竞价中",
    lots_scheduled: "待拍",
    hammer_total: "成交总额",
    run_sale: "拍卖现场",
    console: "拍卖师控制台",
    screen: "现场大屏",
    mint_console: "打开拍卖师控制台",
    auctioneer_name: "拍卖师姓名",
    console_ready: "已生成本场次的拍卖师令牌 (新窗口打开控制台):",
    console_own: "用本账号登录控制台",
    st_scheduled: "待拍",
    st_open: "竞价中",
    st_sold: "已成交",
    st_passed: "流拍",
    st_withdrawn: "撤拍",
    ss_scheduled: "未开始",
    ss_running: "进行中",
    ss_finished: "已结束",
    // registrations
    regs: "报名审核与保证金",
    regs_desk: "报名审核",
    no_regs: "暂无报名",
    bidder: "竞买人",
    uscc: "统一社会信用代码",
    documents: "报名材料",
    agent: "代理人",
    applied_at: "报名时间",
    approve: "通过",
    approve_n: "通过: {name}",
    reject: "驳回",
    reject_n: "驳回: {name}",
    reason: "驳回原因",
    reason_n: "驳回原因: {name}",
    confirm_deposit: "确认保证金",
    confirm_n: "确认保证金: {name}",
    deposit_amount: "到账金额 (元)",
    deposit_amount_n: "到账金额 (元): {name}",
    deposit_required: "应缴 {amount}",
    paddle: "号牌 {paddle}",
    approved_ok: "已通过: {name}",
    rejected_ok: "已驳回: {name}",
    paid_ok: "保证金已确认: {name}, 号牌 {paddle}",
    none: "无",
    // lot form
    lot_new_title: "新增标的: {name}",
    result_type: "成果类型",
    ip_type: "知识产权类别",
    tech_field: "技术领域",
    transaction_mode: "交易方式",
    contract_type: "合同类型",
    holder_name: "持有人 (转让方)",
    holder_uscc: "持有人统一社会信用代码",
    start_price_yuan: "起拍价 (元)",
    increment_yuan: "加价幅度 (元)",
    deposit_yuan: "保证金 (元)",
    deposit_hint: "不填则为起拍价的 10%",
    reserve_yuan: "保留价 (元)",
    reserve_hint: "不填则无保留价; 保留价不公开",
    appraisal_yuan: "评估价 (元)",
    non_tech_yuan: "非技术性费用 (元)",
    non_tech_hint: "设备、原材料等非技术部分, 用于计算技术交易额",
    duration_min: "竞价时长 (分钟)",
    duration_hint: "限时竞价的标的须填写",
    description: "标的介绍",
    choose: "请选择",
    create_lot: "创建标的",
    lot_created: "标的已创建: {title}",
    guideline: "加价幅度提示",
    another_lot: "继续新增",
    back_session: "返回场次",
    import_none: "表格批量导入尚未上线。",
    import_lots: "表格导入",
    import_title: "表格导入标的: {name}",
    import_hint: "每行一个标的, 列与模板一致; XLSX 或 CSV, 不超过 2 MB。有任何一行出错则不导入任何标的。",
    template: "下载模板 (XLSX)",
    import_file: "表格文件",
    import_check: "检查表格",
    import_go: "导入标的",
    import_none_chosen: "请选择表格文件",
    import_errors: "{n} 处错误, 未导入任何标的",
    import_checked: "检查通过: {n} 个标的可以导入",
    import_done: "已导入 {n} 个标的",
    import_row: "行",
    import_col: "列",
    import_why: "原因",
  },
  en: {
    admin: "Market back office",
    home: "Back office",
    catalogue: "Sessions and lots",
    logout: "Log out",
    need_login: "Please log in with a market staff account first.",
    go_login: "Log in",
    not_staff: "This login is not a market staff account; the back office is not available.",
    who: "Account",
    role: "Role",
    markets_title: "My markets",
    whoami: "Logged in: {name} · {role} · {market}",
    all_markets: "all markets",
    role_admin: "Platform admin",
    role_market_admin: "Market admin",
    role_auctioneer: "Auctioneer",
    role_finance: "Finance",
    role_bidder: "Bidder",
    no_markets: "No market to manage",
    no_sessions: "No session yet",
    no_lots: "No lot yet",
    no_access: "This session is not of your markets.",
    new_session: "New session",
    sessions: "Sessions",
    session_name: "Session name",
    starts_at: "Starts at",
    mode: "Mode",
    mode_live: "Live",
    mode_timed: "Timed",
    season: "Season",
    season_spring: "Spring",
    season_autumn: "Autumn",
    season_special: "Special",
    status: "Status",
    lot_count: "Lots",
    open: "Manage",
    loading: "Loading…",
    err: "Request failed: {message}",
    err_fix: "Please correct the marked fields",
    f_required: "Enter the {label}",
    f_amount: "Enter an amount in yuan, at most 2 decimals",
    f_int: "Enter a whole number",
    f_uscc: "A credit code has 18 digits and capital letters; its check character does not match",
    f_bands: "Increment table: the first band starts at 0, starts ascend, increments above 0",
    market: "Market",
    ext_window: "Extension window (s)",
    ext_window_hint: "Timed lots: a bid this close to the end extends it",
    ext_s: "Extension (s)",
    increments: "Increment table",
    band_from: "From (yuan)",
    band_inc: "Increment (yuan)",
    band_n: "Band {n}",
    add_band: "Add a band",
    remove_band: "Remove band {n}",
    announcement: "Auction announcement",
    terms: "Bidding terms",
    reg_deadline: "Registration deadline",
    contact_phone: "Contact phone",
    payee_name: "Deposit payee",
    payee_bank: "Payee bank",
    payee_account: "Payee account",
    create_session: "Create session",
    session_created: "Session created",
    session_title: "Session: {name}",
    facts: "Session",
    ext_rule: "Extension rule",
    ext_rule_text: "a bid in the last {w} s extends by {e} s",
    lots: "Lots",
    new_lot: "New lot",
    ordinal: "No.",
    title: "Title",
    start_price: "Start price",
    increment: "Increment",
    deposit: "Deposit",
    progress: "Progress",
    registered: "Registered",
    lots_total: "Lots",
    lots_sold: "Sold",
    lots_passed: "Passed",
    lots_open: "Open",
    lots_scheduled: "To come",
    hammer_total: "Hammer total",
    run_sale: "The sale",
    console: "Auctioneer console",
    screen: "Room screen",
    mint_console: "Open the auctioneer console",
    auctioneer_name: "Auctioneer's name",
    console_ready: "An auctioneer token for this session was made (the console opens in a new window):",
    console_own: "Console with this login",
    st_scheduled: "To come",
    st_open: "Open",
    st_sold: "Sold",
    st_passed: "Passed",
    st_withdrawn: "Withdrawn",
    ss_scheduled: "Not started",
    ss_running: "Running",
    ss_finished: "Finished",
    regs: "Applications and deposits",
    regs_desk: "Applications",
    no_regs: "No application yet",
    bidder: "Bidder",
    uscc: "Credit code",
    documents: "Documents",
    agent: "Agent",
    applied_at: "Applied",
    approve: "Approve",
    approve_n: "Approve: {name}",
    reject: "Reject",
    reject_n: "Reject: {name}",
    reason: "Reason",
    reason_n: "Reason: {name}",
    confirm_deposit: "Confirm deposit",
    confirm_n: "Confirm deposit: {name}",
    deposit_amount: "Amount received (yuan)",
    deposit_amount_n: "Amount received (yuan): {name}",
    deposit_required: "due {amount}",
    paddle: "paddle {paddle}",
    approved_ok: "Approved: {name}",
    rejected_ok: "Rejected: {name}",
    paid_ok: "Deposit confirmed: {name}, paddle {paddle}",
    none: "none",
    rs_invited: "Awaiting the bidder",
    rs_applied: "Applied",
    rs_approved: "Approved",
    rs_rejected: "Rejected",
    rs_deposit_paid: "Deposit confirmed",
    rs_withdrawn: "Withdrawn",
    rs_forfeited: "Deposit forfeited",
    lot_new_title: "New lot: {name}",
    result_type: "Result type",
    ip_type: "IP category",
    tech_field: "Technology field",
    transaction_mode: "Transaction mode",
    contract_type: "Contract type",
    holder_name: "Holder (seller)",
    holder_uscc: "Holder's credit code",
    start_price_yuan: "Start price (yuan)",
    increment_yuan: "Increment (yuan)",
    deposit_yuan: "Deposit (yuan)",
    deposit_hint: "Empty: 10 % of the start price",
    reserve_yuan: "Reserve (yuan)",
    reserve_hint: "Empty: no reserve; never shown",
    appraisal_yuan: "Appraised value (yuan)",
    non_tech_yuan: "Non-technical costs (yuan)",
    non_tech_hint: "Equipment, materials …: the technology amount is the rest",
    duration_min: "Bidding time (minutes)",
    duration_hint: "Required for a timed session",
    description: "Description",
    choose: "Choose",
    create_lot: "Create lot",
    lot_created: "Lot created: {title}",
    guideline: "Increment guideline",
    another_lot: "Add another",
    back_session: "Back to the session",
    import_none: "Spreadsheet import is not available yet.",
    import_lots: "Import",
    import_title: "Import lots: {name}",
    import_hint: "One lot a row, the template's columns; XLSX or CSV, at most 2 MB. One bad row and no lot is imported.",
    template: "Download the template (XLSX)",
    import_file: "Spreadsheet",
    import_check: "Check",
    import_go: "Import lots",
    import_none_chosen: "Choose a spreadsheet",
    import_errors: "{n} errors; no lot imported",
    import_checked: "Checked: {n} lots can be imported",
    import_done: "{n} lots imported",
    import_row: "Row",
    import_col: "Column",
    import_why: "Problem",
  },
};

/** The back office's text for ``key``. */
export function a(key, vars = {}) {
  const text = DICT[lang()][key] ?? DICT.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** Fill [data-a] (text), [data-a-ph] (placeholder) and [data-a-aria] (aria-label). */
export function applyA(root = document) {
  for (const node of root.querySelectorAll("[data-a]")) node.textContent = a(node.dataset.a);
  for (const node of root.querySelectorAll("[data-a-ph]")) node.placeholder = a(node.dataset.aPh);
  for (const node of root.querySelectorAll("[data-a-aria]")) {
    node.setAttribute("aria-label", a(node.dataset.aAria));
  }
}

export const $ = (id) => document.getElementById(id);

// --- vocabularies (../shared/DOMAIN.md; the same lists as the spreadsheet template's. The server
// takes transaction mode and contract type from these lists only, the others as free text) -----

export const RESULT_TYPES = ["专利", "技术秘密", "计算机软件著作权", "集成电路布图设计", "植物新品种",
  "生物、医药新品种", "其他"];
export const IP_TYPES = ["发明专利", "实用新型专利", "外观设计专利", "技术秘密", "计算机软件著作权",
  "集成电路布图设计专有权", "植物新品种", "生物、医药新品种", "未涉及知识产权"];
export const TECH_FIELDS = ["电子信息", "航空航天", "先进制造", "生物、医药和医疗器械",
  "新材料及其应用", "新能源与高效节能", "环境保护与资源综合利用", "核应用", "农业", "现代交通",
  "城市建设与社会发展"];
export const TRANSACTION_MODES = ["转让", "许可", "作价投资"];
export const CONTRACT_TYPES = ["技术转让", "技术许可", "技术开发", "技术咨询", "技术服务"];

// --- who may do what (docs/roles.md) -----------------------------------------------------------

const STAFF = new Set(["admin", "market_admin", "auctioneer", "finance"]);

/** What the pages offer to ``role``: the server refuses the rest anyway. */
export function may(role, what) {
  const table = {
    manage: ["admin", "market_admin"], // sessions, lots, staff tokens
    desk: ["admin", "market_admin"], // approve / reject
    regs: ["admin", "market_admin", "finance"], // read registrations
    deposit: ["finance"], // confirm deposits: finance alone (separation of duties)
    run: ["admin", "market_admin", "auctioneer"], // console, room screen, progress
  };
  return (table[what] || []).includes(role);
}

export function roleText(role) {
  return a(`role_${role}`);
}

/** Who is logged in, or null (the need-login notice is shown). Staff only. */
export async function whoAmI() {
  try {
    const me = await call("/auth/me");
    if (!STAFF.has(me.role)) {
      notice("not_staff");
      return null;
    }
    return me;
  } catch (err) {
    if (err.status === 401) {
      notice("need_login", true);
      return null;
    }
    throw err;
  }
}

function notice(key, withLink = false) {
  const box = $("gate");
  box.replaceChildren(document.createTextNode(a(key) + " "));
  if (withLink) {
    const link = document.createElement("a");
    link.href = "../login.html";
    link.textContent = a("go_login");
    box.append(link);
  }
  box.classList.remove("hidden");
  $("content")?.classList.add("hidden");
}

/** The markets of ``me``'s scope (codes from GET /auth/me), from the public market list. */
export async function myMarkets(me) {
  const all = (await call("/markets")).markets;
  if (me.role === "admin") return all;
  const scope = new Set(me.scope || []);
  return all.filter((m) => scope.has(m.code));
}

/** The page's language switch and 退出; ``rerender`` redraws what scripts wrote. */
export function setupPage(rerender) {
  setupLang($("lang"), () => {
    applyA();
    rerender();
  });
  $("logout")?.addEventListener("click", async () => {
    await post("/auth/logout").catch(() => null);
    document.cookie = "auction_csrf=; Max-Age=0; path=/; SameSite=Strict";
    location.href = "../login.html";
  });
}

/** An error for people: the server's own (Chinese) message, ours in English. */
export function errText(err) {
  return a("err", { message: err.message });
}

export function say(box, text, kind) {
  box.textContent = text;
  box.className = `form-msg ${kind || ""}`;
}

export function money(fen) {
  return yuan(fen);
}

/** Fen → the 元 text an input shows ("1000.5" style, no grouping). */
export function fenToInput(fen) {
  const whole = Math.floor(fen / 100);
  const cents = fen % 100;
  return cents ? `${whole}.${String(cents).padStart(2, "0").replace(/0$/, "")}` : String(whole);
}

/** The datetime-local value (China Standard Time) → RFC 3339 with +08:00; "" → null. */
export function cstToRfc(value) {
  if (!value) return null;
  return `${value.length === 16 ? value + ":00" : value}+08:00`;
}

export function sessionLink(id) {
  return `session.html?id=${id}`;
}
