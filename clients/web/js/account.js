// The bidder's own pages (注册, 登录 / 修改密码, 报名, 我的竞拍): their texts (中文 and English,
// beside common.js's, marked data-tr / data-tr-ph so common.js leaves them alone), the cookie
// login (docs/http-api.md "Cookie login": the token is an HttpOnly cookie the page never sees;
// every write carries the readable CSRF cookie's value in X-CSRF-Token), and the identity checks
// the server also makes (USCC check character, resident id check digit), so a typo is named at
// the field before anything is sent.
import { api, apiHeaders, lang, t as common } from "./common.js";

const DICT = {
  zh: {
    signup_title: "竞买人注册",
    login_title: "登录",
    me_title: "我的竞拍",
    apply_title: "报名",
    kind: "注册类型",
    kind_enterprise: "企业",
    kind_person: "自然人",
    ent_name: "企业名称",
    uscc: "统一社会信用代码",
    contact: "联系人及电话",
    legal_rep: "法定代表人",
    person_name: "姓名",
    resident_id: "公民身份号码",
    phone: "手机号码",
    username: "用户名",
    password: "密码",
    password2: "确认密码",
    password_hint: "至少 10 位, 不能与用户名相同, 不能是常见密码",
    signup_btn: "注册",
    signup_done: "已受理。请用刚才设置的用户名和密码登录: 能登录即注册成功; 不能登录说明该用户名、统一社会信用代码或公民身份号码已被使用。",
    go_login: "去登录",
    login_btn: "登录",
    logout_btn: "退出",
    logged_in_as: "已登录: {name}",
    no_account: "还没有账号?",
    go_signup: "注册",
    change_pw: "修改密码",
    old_pw: "原密码",
    new_pw: "新密码",
    new_pw2: "确认新密码",
    change_pw_btn: "修改密码",
    pw_changed: "密码已修改。其他设备上的登录已失效。",
    f_required: "请填写{label}",
    f_uscc: "统一社会信用代码应为 18 位 (数字和大写字母), 最后一位校验码不符",
    f_resident_id: "公民身份号码应为 18 位, 最后一位校验码 (数字或 X) 不符",
    f_phone: "请输入 11 位手机号码",
    f_short: "密码至少 10 位",
    f_same_user: "密码不能与用户名相同",
    f_mismatch: "两次输入的密码不一致",
    f_username: "用户名 3–64 个字符, 不含空格",
    err_fix: "请按提示修改标出的项目",
    err_network: "请求失败: {message}",
    need_login: "请先登录竞买人账号",
    not_bidder: "当前登录的不是竞买人账号",
    // apply
    apply_for: "报名: {name}",
    no_session: "场次不存在",
    announcement: "拍卖公告",
    terms: "竞买须知",
    none_given: "(本场次未发布)",
    agree: "我已阅读并同意拍卖公告和竞买须知",
    agree_needed: "请先阅读并勾选同意拍卖公告和竞买须知",
    agent_toggle: "委托代理人 (可选)",
    // the refund account (户名, 开户行, 账号): given when applying, changeable until forfeited
    refund_h: "退款账户 (可选)",
    refund_hint: "未成交的保证金退回此账户。户名、开户行、账号须一并填写; 也可报名后在本页填写或修改。",
    refund_name: "户名",
    refund_bank: "开户行",
    refund_account: "账号",
    refund_save: "保存退款账户",
    refund_saved: "退款账户已保存",
    refund_status_h: "退款账户",
    refund_none: "尚未填写: 请填写未成交时退回保证金的账户。",
    f_refund_all: "户名、开户行、账号须一并填写",
    f_refund_account: "账号应为 6–32 位数字 (可用空格或 - 分组)",
    agent_name: "代理人姓名",
    agent_id: "代理人公民身份号码",
    documents: "报名材料",
    doc_hint: "营业执照复印件、授权委托书等; PNG、JPEG、WebP 图片或 PDF, 每个文件不超过 5 MB, 最多 20 个",
    doc_label: "材料名称",
    doc_file: "选择文件",
    doc_kind_licence: "营业执照复印件",
    doc_kind_id: "身份证复印件",
    doc_kind_proxy: "授权委托书",
    doc_kind_other: "其他材料",
    upload_btn: "上传补充材料",
    doc_file_more: "补充材料文件",
    doc_label_more: "补充材料名称",
    f_file_type: "只接受 PNG、JPEG、WebP 图片或 PDF",
    f_file_size: "文件超过 5 MB",
    f_file_none: "请选择文件",
    uploaded: "已上传: {name}",
    apply_btn: "提交报名",
    applied_ok: "报名已提交, 等待技术市场审核",
    status: "报名状态",
    status_applied: "已申请, 等待审核",
    status_invited: "待您确认",
    status_approved: "已通过审核, 请缴纳保证金",
    status_rejected: "已驳回",
    status_deposit_paid: "保证金已确认",
    status_withdrawn: "已撤回",
    status_forfeited: "保证金已没收",
    reason: "驳回原因",
    deposit: "保证金",
    deposit_amount: "应缴金额",
    deposit_state: "保证金状态",
    payee_name: "收款单位",
    payee_bank: "开户银行",
    payee_account: "收款账号",
    reference: "转账附言 (请照填)",
    deadline: "缴纳截止",
    before_approval: "审核通过后按此金额缴纳",
    paddle_is: "您的号牌: {paddle}",
    go_bid: "去出价",
    lots_of_session: "本场标的",
    contact_phone: "咨询电话",
    agent_recorded: "代理人: {name}",
    applied_at: "报名时间",
    agreed_at: "同意时间",
    auto_refresh: "本页自动更新状态",
    ds_required: "待缴纳",
    ds_confirmed: "已到账",
    ds_held: "已冻结 (竞价中)",
    ds_released: "已退还",
    ds_applied: "已转为价款",
    ds_forfeited: "已没收",
    ds_none: "待审核",
    // me
    my_regs: "我的报名",
    my_bidding: "我参与竞价的标的",
    my_wins: "我竞得的标的",
    session: "场次",
    lot: "标的",
    my_paddle: "号牌",
    my_high: "我的最高出价",
    current: "当前价",
    state: "状态",
    leading: "领先",
    outbid: "出局",
    won: "竞得",
    lost: "未竞得",
    deal_price: "成交价",
    next_steps: "后续事项",
    nothing_yet: "暂无",
    apply_link: "查看报名",
    apply_more: "去场次与标的报名",
    view: "查看",
  },
  en: {
    signup_title: "Bidder sign-up",
    login_title: "Log in",
    me_title: "My auctions",
    apply_title: "Apply",
    kind: "Sign up as",
    kind_enterprise: "Enterprise",
    kind_person: "Natural person",
    ent_name: "Enterprise name",
    uscc: "Unified social credit code",
    contact: "Contact person and phone",
    legal_rep: "Legal representative",
    person_name: "Name",
    resident_id: "Resident ID number",
    phone: "Mobile phone",
    username: "Username",
    password: "Password",
    password2: "Confirm password",
    password_hint: "At least 10 characters, not the username, not a common password",
    signup_btn: "Sign up",
    signup_done: "Received. Log in with the username and password you chose: if you can, you are signed up; if not, the username, credit code or ID number is already in use.",
    go_login: "Log in",
    login_btn: "Log in",
    logout_btn: "Log out",
    logged_in_as: "Logged in: {name}",
    no_account: "No account yet?",
    go_signup: "Sign up",
    change_pw: "Change password",
    old_pw: "Current password",
    new_pw: "New password",
    new_pw2: "Confirm new password",
    change_pw_btn: "Change password",
    pw_changed: "Password changed. Logins on other devices are ended.",
    f_required: "Enter the {label}",
    f_uscc: "A credit code has 18 digits and capital letters; its check character does not match",
    f_resident_id: "An ID number has 18 characters; its check digit (digit or X) does not match",
    f_phone: "Enter an 11-digit mobile number",
    f_short: "At least 10 characters",
    f_same_user: "The password must differ from the username",
    f_mismatch: "The passwords differ",
    f_username: "Username: 3–64 characters, no spaces",
    err_fix: "Please correct the marked fields",
    err_network: "Request failed: {message}",
    need_login: "Please log in with a bidder account first",
    not_bidder: "This login is not a bidder account",
    apply_for: "Apply: {name}",
    no_session: "No such session",
    announcement: "Auction announcement",
    terms: "Bidding terms",
    none_given: "(not published)",
    agree: "I have read and agree to the announcement and the terms",
    agree_needed: "Read and tick your agreement to the announcement and the terms first",
    agent_toggle: "Agent (optional)",
    refund_h: "Refund account (optional)",
    refund_hint: "An unsuccessful deposit is paid back to this account. Give account name, bank and number together; you may also give or change them on this page after applying.",
    refund_name: "Account name",
    refund_bank: "Bank",
    refund_account: "Account number",
    refund_save: "Save refund account",
    refund_saved: "Refund account saved",
    refund_status_h: "Refund account",
    refund_none: "Not given yet: the account your deposit goes back to if you do not win.",
    f_refund_all: "Give account name, bank and number together",
    f_refund_account: "An account number has 6–32 digits (spaces or - between groups allowed)",
    agent_name: "Agent's name",
    agent_id: "Agent's resident ID number",
    documents: "Documents",
    doc_hint: "Business licence copy, power of attorney …; PNG, JPEG, WebP pictures or PDF, up to 5 MB each, at most 20",
    doc_label: "Document",
    doc_file: "Choose file",
    doc_kind_licence: "Business licence copy",
    doc_kind_id: "ID card copy",
    doc_kind_proxy: "Power of attorney",
    doc_kind_other: "Other",
    upload_btn: "Upload more",
    doc_file_more: "More documents",
    doc_label_more: "Document (more)",
    f_file_type: "Only PNG, JPEG, WebP pictures or PDF",
    f_file_size: "The file is larger than 5 MB",
    f_file_none: "Choose a file",
    uploaded: "Uploaded: {name}",
    apply_btn: "Submit application",
    applied_ok: "Application sent; the market will review it",
    status: "Status",
    status_applied: "Applied, under review",
    status_invited: "Awaiting your acceptance",
    status_approved: "Approved: please pay the deposit",
    status_rejected: "Rejected",
    status_deposit_paid: "Deposit confirmed",
    status_withdrawn: "Withdrawn",
    status_forfeited: "Deposit forfeited",
    reason: "Reason",
    deposit: "Deposit",
    deposit_amount: "Amount",
    deposit_state: "Deposit",
    payee_name: "Payee",
    payee_bank: "Bank",
    payee_account: "Account",
    reference: "Transfer reference (write exactly)",
    deadline: "Pay by",
    before_approval: "to pay once approved",
    paddle_is: "Your paddle: {paddle}",
    go_bid: "Bid",
    lots_of_session: "Lots of the session",
    contact_phone: "Enquiries",
    agent_recorded: "Agent: {name}",
    applied_at: "Applied at",
    agreed_at: "Agreed at",
    auto_refresh: "This page updates by itself",
    ds_required: "to pay",
    ds_confirmed: "received",
    ds_held: "held (bidding)",
    ds_released: "released",
    ds_applied: "applied to the price",
    ds_forfeited: "forfeited",
    ds_none: "pending review",
    my_regs: "My registrations",
    my_bidding: "Lots I bid on",
    my_wins: "Lots I won",
    session: "Session",
    lot: "Lot",
    my_paddle: "Paddle",
    my_high: "My highest bid",
    current: "Current",
    state: "State",
    leading: "Leading",
    outbid: "Outbid",
    won: "Won",
    lost: "Not won",
    deal_price: "Price",
    next_steps: "Next",
    nothing_yet: "None",
    apply_link: "Registration",
    apply_more: "Find a session to apply",
    view: "View",
  },
};

/** This page's text for ``key`` (falling back to common.js's). */
export function tr(key, vars = {}) {
  const text = DICT[lang()][key] ?? DICT.zh[key];
  if (text === undefined) return common(key, vars);
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** Fill every [data-tr] (text), [data-tr-ph] (placeholder) and [data-tr-label] (aria-label). */
export function applyTr(root = document) {
  for (const node of root.querySelectorAll("[data-tr]")) node.textContent = tr(node.dataset.tr);
  for (const node of root.querySelectorAll("[data-tr-ph]")) node.placeholder = tr(node.dataset.trPh);
  for (const node of root.querySelectorAll("[data-tr-label]")) {
    node.setAttribute("aria-label", tr(node.dataset.trLabel));
  }
}

// --- the cookie login ---------------------------------------------------------------------------

/** The login's CSRF value (the readable cookie), or "" when not logged in. */
export function csrf() {
  const m = /(?:^|;\s*)auction_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : "";
}

/** The logged-in principal (GET /auth/me by cookie), or null when nobody is logged in. */
export async function whoAmI() {
  if (!csrf()) return null;
  try {
    return await api("/auth/me");
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

/** The page to come back to after logging in: this one. */
export function loginHref() {
  return `login.html?next=${encodeURIComponent(location.pathname.replace(/^.*\//, "") + location.search)}`;
}

/** The same as common.api, but keeps the error's ``field`` (a 400 names what was wrong). */
export async function call(path, opts = {}) {
  const r = await fetch(`/api/v1${path}`, {
    ...opts, headers: apiHeaders(opts.headers || {}),
  });
  let body = null;
  try {
    body = await r.json();
  } catch {
    body = null;
  }
  if (!r.ok) {
    const err = new Error(body?.error?.message || `HTTP ${r.status}`);
    err.status = r.status;
    err.code = body?.error?.code;
    err.field = body?.error?.field;
    throw err;
  }
  return body;
}

/** ``call`` with the CSRF header and a JSON body. */
export function post(path, json, opts = {}) {
  const headers = { "X-CSRF-Token": csrf(), ...(opts.headers || {}) };
  let body = opts.body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  return call(path, { method: "POST", ...opts, headers, body });
}

// --- identity checks (the server makes the same: auction/domain/identity.py) -------------------

const USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100-2015: 18 characters of the code set, the last one the check character. */
export function usccValid(raw) {
  const code = String(raw).trim().toUpperCase();
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(code[i]) * USCC_WEIGHTS[i];
  return USCC_CHARS[(31 - (sum % 31)) % 31] === code[17];
}

/** GB 11643-1999: 17 digits and a check character (0–9 or X) of ISO 7064 MOD 11-2. */
export function residentIdValid(raw) {
  const id = String(raw).trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * weights[i];
  return "10X98765432"[sum % 11] === id[17];
}

export function phoneValid(raw) {
  return /^(?:\+?86[- ]?)?1[3-9]\d{9}$/.test(String(raw).replace(/\s/g, ""));
}

// --- forms: an error under each field -------------------------------------------------------------

/** Show ``message`` under the input ``id`` (its describedby), or clear it with "". */
export function fieldError(id, message) {
  const input = document.getElementById(id);
  if (!input) return;
  let note = document.getElementById(`${id}-err`);
  if (!note) {
    note = document.createElement("div");
    note.id = `${id}-err`;
    note.className = "field-err";
    input.closest(".field")?.append(note);
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(note.id)) described.push(note.id);
    input.setAttribute("aria-describedby", described.join(" "));
  }
  note.textContent = message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

export function clearErrors(form) {
  for (const input of form.querySelectorAll("input, select, textarea")) {
    if (input.id) fieldError(input.id, "");
  }
}

/** A deposit state in words. */
export function depositState(state) {
  return tr(`ds_${state || "none"}`);
}
