// 编辑场次 (/admin/session-edit.html?id=N): PATCH /sessions/{id} (docs/http-api.md "Session
// texts and facts"): the start, a timed session's schedule (admin-schedule.js), 拍卖公告, 竞买须知,
// the registration deadline (moved, never removed), the contact phone and the deposit payee,
// until bidding starts (then 409 bidding_started, said
// above the form). A 400 is shown under the field it names. The market admin of the session's
// market or above, and the platform admin.
import { el, param } from "./common.js";
import { clearErrors, csrf, fieldError } from "./account.js";
import { $, a, call, cstToRfc, errText, may, roleText, say, scopedSession, sessionLink,
  setupPage, whoAmI } from "./admin.js";
import { SCHEDULE_IDS, fillSchedule, readSchedule, showSchedule, toCst } from "./admin-schedule.js";

const id = Number(param("id")) || 0;
const FIELDS = { announcement: "announcement", terms: "terms", contact_phone: "contact-phone",
  payee_name: "payee-name", payee_bank: "payee-bank", payee_account: "payee-account",
  registration_deadline: "reg-deadline" };
let me = null;
let session = null;

function paint() {
  if (!me || !session) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  $("title").textContent = a("edit_title", { name: session.name });
  document.title = `${a("edit_session")} · ${a("admin")}`;
}

function fill() {
  for (const [key, box] of Object.entries(FIELDS)) {
    $(box).value = key === "registration_deadline" ? toCst(session[key]) : session[key] || "";
  }
  $("starts-at").value = toCst(session.starts_at);
  fillSchedule(session);
  showSchedule(session.mode);
}

async function patch(body) {
  return call(`/sessions/${id}`, { method: "PATCH", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() } });
}

$("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors($("form"));
  say($("msg"), "");
  const schedule = readSchedule(session.mode);
  if (!schedule || !$("starts-at").value) {
    if (!$("starts-at").value) fieldError("starts-at", a("f_required", { label: a("starts_at") }));
    say($("msg"), () => a("err_fix"), "bad");
    return;
  }
  const body = { starts_at: cstToRfc($("starts-at").value), ...schedule };
  for (const [key, box] of Object.entries(FIELDS)) {
    if (key === "registration_deadline") {
      if ($(box).value) body[key] = cstToRfc($(box).value);
    } else {
      body[key] = $(box).value.trim();
    }
  }
  try {
    session = await patch(body);
    fill();
    $("msg").replaceChildren(a("saved_ok"), " ",
      el("a", { href: sessionLink(id), text: a("back_session") }));
    $("msg").className = "form-msg good";
  } catch (err) {
    const box = { ...FIELDS, ...SCHEDULE_IDS, starts_at: "starts-at" }[err.field];
    if (box && err.status === 400) fieldError(box, err.message);
    say($("msg"), () => errText(err), "bad");
  }
});

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "manage")) {
    $("gate").textContent = a("no_right");
    $("gate").classList.remove("hidden");
    return;
  }
  session = await scopedSession(me, id);
  if (!session) return;
  $("back").href = sessionLink(id);
  fill();
  paint();
  // the server decides (409 bidding_started); this only spares a form that cannot be saved
  // (the progress reads each lot's room, where an opened lot shows first)
  const { lots } = await call(`/sessions/${id}/progress`);
  if (lots.scheduled < lots.total) {
    say($("msg"), () => a("edit_closed"), "bad");
    for (const box of $("form").querySelectorAll("input, textarea, button")) box.disabled = true;
  }
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
