// 市场与人员 (/admin/markets.html): the market tree of my scope (GET /markets, GET /auth/me
// scope), a child market (POST /markets; the server checks the division code against the
// parent, its 400 is shown under the field it names) and staff accounts (POST /accounts,
// POST /accounts/{id}/disable). The API has no account list, no reset of another's password
// and no role change: the accounts made on this page are listed, others disabled by id.
// Market admins and the platform admin only (docs/roles.md).
import { el } from "./common.js";
import { $, a, errText, gate, may, myMarkets, post, roleText, say, setupPage, table, whoAmI }
  from "./admin.js";

let me = null;
let markets = [];
const made = []; // accounts created on this page (the API lists none)

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
  $("made").replaceChildren(made.length ? table(["username", "person_name", "acct_role",
    "acct_market", "account_id", "status", ""], made.map((u) => [u.username, u.person_name || "—",
    roleText(u.role), u.market_code, String(u.id), a(u.disabled ? "disabled" : "active"),
    u.disabled ? "" : el("button", { type: "button", class: "warn",
      "aria-label": a("disable_n", { name: u.username }), text: a("disable"),
      onclick: () => disable(u.id, u.username) })])) : el("p", { class: "muted", text: a("none") }));
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
    say(msgBox, a("err_fix"), "bad");
    return;
  }
  say(msgBox, errText(err), "bad");
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
    say($("market-msg"), a("market_created", { name: m.name, code: m.code }), "good");
    markets = await myMarkets(await whoAmI() || me);
    for (const id of ["m-code", "m-name", "m-slug"]) $(id).value = "";
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
    made.push(account);
    say($("account-msg"), a("account_created", { username: account.username,
      role: roleText(account.role) }), "good");
    for (const id of ["u-name", "u-person", "u-password"]) $(id).value = "";
    paint();
  } catch (err) {
    fieldError(err, { username: "u-name", password: "u-password", role: "u-role",
      market_code: "u-market", person_name: "u-person" }, $("account-msg"));
  }
});

async function disable(id, name) {
  try {
    const account = await post(`/accounts/${id}/disable`);
    const mine = made.find((u) => u.id === account.id);
    if (mine) mine.disabled = true;
    say($("disable-msg"), a("disabled_ok", { name: name || account.username }), "good");
    paint();
  } catch (err) {
    say($("disable-msg"), errText(err), "bad");
  }
}

$("disable-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const id = Number($("d-id").value.trim());
  if (!Number.isInteger(id) || id <= 0) {
    $("d-id").setAttribute("aria-invalid", "true");
    say($("disable-msg"), a("f_int"), "bad");
    return;
  }
  $("d-id").removeAttribute("aria-invalid");
  disable(id, "");
});

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
}

setupPage(paint);
load().catch((err) => say($("msg"), errText(err), "bad"));
