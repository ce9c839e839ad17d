// 市场与人员 (/admin/markets.html): the market tree of my scope (GET /markets, GET /auth/me
// scope), a child market (POST /markets; the server checks the division code against the
// parent, its 400 is shown under the field it names) and staff accounts: create
// (POST /accounts), the list of my subtree's staff (GET /markets/{code}/accounts for each top
// market of my scope) with 停用 (POST /accounts/{id}/disable), 重置密码 (POST
// /accounts/{id}/password, the new password typed twice) and 修改角色/市场 (PATCH
// /accounts/{id}). Market admins and the platform admin only (docs/roles.md). Below them, a
// market's 合同登记接收地址 (admin-endpoint.js).
import { el, lang } from "./common.js";
import { endpointMarkets, paintEndpoint, startEndpoint } from "./admin-endpoint.js";
import { $, a, call, errText, gate, may, myMarkets, post, roleText, say, setupPage, table,
  whoAmI } from "./admin.js";

// this page's own texts (admin.js holds the shared ones; t() falls back to them)
const M = {
  zh: {
    accounts_list: "账号列表", created_at: "创建时间", acts: "操作",
    reset_pw: "重置密码", reset_pw_n: "重置密码: {name}", edit: "修改角色/市场",
    edit_n: "修改角色/市场: {name}", new_password: "新密码", new_password2: "再次输入新密码",
    confirm_reset: "确认重置", cancel: "取消", save: "保存", new_role: "改为角色",
    new_market: "改为市场", pw_mismatch: "两次输入的密码不一致",
    reset_ok: "已重置 {name} 的密码; 该账号原有的登录已全部失效",
    edit_ok: "已修改 {name}: {role}, {market}; 该账号须重新登录", self: "本人",
    no_accounts: "暂无工作人员账号",
  },
  en: {
    accounts_list: "Accounts", created_at: "Created", acts: "Actions",
    reset_pw: "Reset password", reset_pw_n: "Reset password: {name}",
    edit: "Change role / market", edit_n: "Change role / market: {name}",
    new_password: "New password", new_password2: "New password again",
    confirm_reset: "Reset", cancel: "Cancel", save: "Save", new_role: "Change role to",
    new_market: "Move to market", pw_mismatch: "The two passwords differ",
    reset_ok: "Password of {name} reset; its logins are all signed out",
    edit_ok: "{name} changed: {role}, {market}; it must log in again", self: "you",
    no_accounts: "No staff account yet",
  },
};

function t(key, vars = {}) {
  const text = (M[lang()] || M.zh)[key] ?? M.zh[key];
  if (text === undefined) return a(key, vars);
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

let me = null;
let markets = [];
let accounts = []; // the staff of my subtree (GET /markets/{code}/accounts)
let target = null; // the account the reset or edit form is open for

function levelOf(code) {
  if (/^\d\d0000$/.test(code)) return "province";
  if (/^\d{4}00$/.test(code)) return "city";
  return "county";
}

function paint() {
  if (!me) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  const byParent = new Map();
  const ids = new Set(markets.map((m) => m.id));
  for (const m of markets) {
    const key = ids.has(m.parent_id) ? m.parent_id : null;
    byParent.set(key, [...(byParent.get(key) || []), m]);
  }
  const branch = (key) => {
    const kids = (byParent.get(key) || []).sort((x, y) => x.code.localeCompare(y.code));
    return kids.length ? el("ul", { class: "tree" }, ...kids.map((m) => el("li", {},
      el("span", { class: "mono", text: m.code }), " ", m.name, " ",
      el("span", { class: "badge", text: a(`level_${m.level}`) }), " ",
      el("a", { href: `ledger.html?market=${m.code}`, text: a("nav_ledger"),
        "aria-label": `${a("nav_ledger")}: ${m.name}` }),
      branch(m.id)))) : null;
  };
  $("tree").replaceChildren(branch(null) || el("p", { class: "muted", text: a("no_markets") }));
  for (const id of ["m-parent", "u-market"]) {
    const box = $(id);
    const keep = box.value;
    box.replaceChildren(...markets.map((m) => el("option", { value: m.code,
      text: `${m.name} (${m.code})` })));
    if (keep) box.value = keep;
  }
  for (const node of document.querySelectorAll("[data-m]")) node.textContent = t(node.dataset.m);
  const box = $("e-market");
  const keep = box.value;
  box.replaceChildren(...markets.map((m) => el("option", { value: m.code,
    text: `${m.name} (${m.code})` })));
  if (keep) box.value = keep;
  paintEndpoint();
  if (target) {
    $("reset-h").textContent = t("reset_pw_n", { name: target.username });
    $("edit-h").textContent = t("edit_n", { name: target.username });
  }
  const button = (label, aria, cls, onclick) => el("button", { type: "button", class: cls,
    "aria-label": aria, text: label, onclick });
  $("accounts").replaceChildren(accounts.length ? table(["username", "person_name", "acct_role",
    "acct_market", "status", t("created_at"), t("acts")], accounts.map((u) => {
    const self = u.id === me.account_id;
    const acts = self ? t("self") : el("span", { class: "inline" },
      u.disabled ? "" : button(a("disable"), a("disable_n", { name: u.username }), "warn",
        () => disable(u.id, u.username)),
      button(t("reset_pw"), t("reset_pw_n", { name: u.username }), "", () => open("reset", u)),
      button(t("edit"), t("edit_n", { name: u.username }), "", () => open("edit", u)));
    return [u.username, u.name || "—", roleText(u.role), `${u.market_name} (${u.market_code})`,
      a(u.disabled ? "disabled" : "active"), (u.created_at || "").slice(0, 16).replace("T", " "),
      el("div", { class: "acts" }, acts)];
  })) : el("p", { class: "muted", text: t("no_accounts") }));
}

/** The top markets of my scope: each one's list holds its whole subtree. */
async function loadAccounts() {
  const ids = new Set(markets.map((m) => m.id));
  const tops = markets.filter((m) => !ids.has(m.parent_id));
  const lists = await Promise.all(tops.map((m) => call(`/markets/${m.code}/accounts`)));
  accounts = lists.flatMap((l) => l.accounts);
  paint();
}

/** Open the reset or edit form for ``u`` (the other one closes). */
function open(which, u) {
  target = u;
  $("reset-form").classList.toggle("hidden", which !== "reset");
  $("edit-form").classList.toggle("hidden", which !== "edit");
  fieldError({}, {}, $("list-msg"));
  say($("list-msg"), "", "");
  paint();
  if (which === "reset") {
    $("r-pass").value = "";
    $("r-pass2").value = "";
    $("r-pass").focus();
  } else {
    $("e-role").value = u.role;
    $("e-market").value = u.market_code;
    $("e-role").focus();
  }
}

function close() {
  target = null;
  $("reset-form").classList.add("hidden");
  $("edit-form").classList.add("hidden");
}

/** Show a 400's message under the field it names (``names``: API field → input id). */
function fieldError(err, names, msgBox) {
  for (const box of document.querySelectorAll(".field-err")) box.textContent = "";
  for (const node of document.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const input = names[err.field];
  if (err.status === 400 && input) {
    $(`${input}-err`).textContent = err.message;
    $(input).setAttribute("aria-invalid", "true");
    $(input).focus();
    say(msgBox, () => a("err_fix"), "bad");
    return;
  }
  if (err.message) say(msgBox, () => errText(err), "bad");
}

$("m-code").addEventListener("input", () => {
  const code = $("m-code").value.trim();
  if (/^\d{6}$/.test(code) && levelOf(code) !== "province") $("m-level").value = levelOf(code);
});

$("market-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { parent_code: $("m-parent").value, code: $("m-code").value.trim(),
    level: $("m-level").value, name: $("m-name").value.trim(), slug: $("m-slug").value.trim() };
  for (const [key, input, label] of [["code", "m-code", "code"], ["name", "m-name", "market_name"],
    ["slug", "m-slug", "slug"]]) {
    if (!body[key]) {
      fieldError({ status: 400, field: key, message: a("f_required", { label: a(label) }) },
        { [key]: input }, $("market-msg"));
      return;
    }
  }
  try {
    const m = await post("/markets", body);
    fieldError({}, {}, $("market-msg"));
    say($("market-msg"), () => a("market_created", { name: m.name, code: m.code }), "good");
    markets = await myMarkets(await whoAmI() || me);
    for (const id of ["m-code", "m-name", "m-slug"]) $(id).value = "";
    endpointMarkets(markets);
    paint();
  } catch (err) {
    fieldError(err, { code: "m-code", parent_code: "m-parent", level: "m-level", name: "m-name",
      slug: "m-slug" }, $("market-msg"));
  }
});

$("account-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { market_code: $("u-market").value, role: $("u-role").value,
    username: $("u-name").value.trim(), password: $("u-password").value };
  if ($("u-person").value.trim()) body.person_name = $("u-person").value.trim();
  for (const [key, input, label] of [["username", "u-name", "username"],
    ["password", "u-password", "password"]]) {
    if (!body[key]) {
      fieldError({ status: 400, field: key, message: a("f_required", { label: a(label) }) },
        { [key]: input }, $("account-msg"));
      return;
    }
  }
  try {
    const account = await post("/accounts", body);
    fieldError({}, {}, $("account-msg"));
    say($("account-msg"), () => a("account_created", { username: account.username,
      role: roleText(account.role) }), "good");
    for (const id of ["u-name", "u-person", "u-password"]) $(id).value = "";
    await loadAccounts();
  } catch (err) {
    fieldError(err, { username: "u-name", password: "u-password", role: "u-role",
      market_code: "u-market", person_name: "u-person" }, $("account-msg"));
  }
});

async function disable(id, name) {
  try {
    await post(`/accounts/${id}/disable`);
    say($("list-msg"), () => a("disabled_ok", { name }), "good");
    if (target?.id === id) close();
    await loadAccounts();
  } catch (err) {
    say($("list-msg"), () => errText(err), "bad");
  }
}

$("reset-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!target) return;
  const names = { new_password: "r-pass", new_password2: "r-pass2" };
  const password = $("r-pass").value;
  if (!password) {
    fieldError({ status: 400, field: "new_password",
      message: a("f_required", { label: t("new_password") }) }, names, $("list-msg"));
    return;
  }
  if (password !== $("r-pass2").value) {
    fieldError({ status: 400, field: "new_password2", message: t("pw_mismatch") }, names,
      $("list-msg"));
    return;
  }
  try {
    await post(`/accounts/${target.id}/password`, { new_password: password });
    const name = target.username;
    fieldError({}, {}, $("list-msg"));
    close();
    say($("list-msg"), () => t("reset_ok", { name }), "good");
  } catch (err) {
    fieldError(err, names, $("list-msg"));
  }
});

$("edit-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!target) return;
  try {
    const u = await post(`/accounts/${target.id}`, { role: $("e-role").value,
      market_code: $("e-market").value }, { method: "PATCH" });
    fieldError({}, {}, $("list-msg"));
    close();
    say($("list-msg"), () => t("edit_ok", { name: u.username, role: roleText(u.role),
      market: u.market_code }), "good");
    await loadAccounts();
  } catch (err) {
    fieldError(err, { role: "e-role", market_code: "e-market" }, $("list-msg"));
  }
});

$("reset-cancel").addEventListener("click", () => { close(); paint(); });
$("edit-cancel").addEventListener("click", () => { close(); paint(); });

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "markets")) {
    gate("no_right");
    return;
  }
  $("content").classList.remove("hidden");
  markets = await myMarkets(me);
  paint();
  await Promise.all([loadAccounts(), startEndpoint(markets)]);
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
