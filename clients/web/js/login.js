// 登录 / 退出 / 修改密码 (login.html) with the cookie login (docs/http-api.md "Cookie login"):
// POST /auth/login {cookie: true} sets an HttpOnly login cookie, kept across tabs; the page then
// goes to ?next= (a page of this site) or 我的竞拍. Logged in, the page shows who, 退出 and the
// password change (POST /auth/password, which ends the account's other logins and sets new
// cookies here).
import { param, setupLang } from "./common.js";
import { applyTr, call, clearErrors, fieldError, post, tr, whoAmI } from "./account.js";

const $ = (id) => document.getElementById(id);
let me = null;
const messages = { "login-msg": null, "pw-msg": null };

function say(box, key, kind, vars = {}) {
  messages[box] = key ? { key, kind, vars } : null;
  paint();
}

function paint() {
  for (const [box, m] of Object.entries(messages)) {
    $(box).textContent = m ? (m.text ?? tr(m.key, m.vars)) : "";
    $(box).className = `form-msg ${m?.kind || ""}`;
  }
  const inside = Boolean(me);
  $("login-card").classList.toggle("hidden", inside);
  $("account-card").classList.toggle("hidden", !inside);
  $("password-card").classList.toggle("hidden", !me?.account);
  if (me) {
    const name = me.account?.username || me.subject || "";
    $("who").textContent = tr("logged_in_as", { name });
  }
}

/** Where to go after logging in: a page of this site only (never another origin). */
function nextPage() {
  const next = param("next") || "";
  // a page of this site: a top-level page or one of the back office's (admin/…)
  const ok = /^(admin\/)?([a-z][a-z-]*\.html)?(\?[^#]*)?$/.test(next) && next !== "" &&
    !next.startsWith("?");
  return ok ? next : "me.html";
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors($("login"));
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!username) fieldError("username", tr("f_required", { label: tr("username") }));
  if (!password) fieldError("password", tr("f_required", { label: tr("password") }));
  if (!username || !password) return;
  try {
    await call("/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password, cookie: true }),
    });
    location.href = nextPage();
  } catch (err) {
    $("password").value = "";
    messages["login-msg"] = { text: err.status === 401 || err.status === 429 ? common401(err)
      : tr("err_network", { message: err.message }), kind: "bad" };
    paint();
    $("password").focus();
  }
});

function common401(err) {
  return document.documentElement.lang === "zh-CN" && err.message ? err.message : tr("err_login");
}

$("logout-btn").addEventListener("click", async () => {
  await post("/auth/logout").catch(() => null);
  document.cookie = "auction_csrf=; Max-Age=0; path=/; SameSite=Strict";
  location.href = "index.html";
});

$("change-pw").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = $("change-pw");
  clearErrors(form);
  const old = $("old-pw").value;
  const pw = $("new-pw").value;
  let bad = false;
  if (!old) { fieldError("old-pw", tr("f_required", { label: tr("old_pw") })); bad = true; }
  if (pw.length < 10) { fieldError("new-pw", tr("f_short")); bad = true; }
  if ($("new-pw2").value !== pw) { fieldError("new-pw2", tr("f_mismatch")); bad = true; }
  if (bad) return;
  try {
    await post("/auth/password", { old_password: old, new_password: pw });
    for (const id of ["old-pw", "new-pw", "new-pw2"]) $(id).value = "";
    say("pw-msg", "pw_changed", "good");
  } catch (err) {
    const id = { old_password: "old-pw", new_password: "new-pw" }[err.field];
    if (id) fieldError(id, err.message);
    else {
      messages["pw-msg"] = { text: tr("err_network", { message: err.message }), kind: "bad" };
      paint();
    }
  }
});

setupLang($("lang"), () => {
  applyTr();
  paint();
});
if (param("user")) $("username").value = param("user");
whoAmI().then((who) => {
  me = who;
  paint();
}, () => paint());
