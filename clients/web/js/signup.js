// 注册 (signup.html): an enterprise (name, USCC, contact, legal representative) or a natural
// person (name, resident id, phone), with a username and password: POST /api/v1/bidders.
// Every field is checked here first (the USCC check character, the resident id check digit, the
// password rule's length and username) and the server's 400 is shown at the field it names.
// Anyone but the platform admin is answered 202 whatever happened: the page says so and leads to
// 登录, where logging in tells whether the sign-up was made.
import { setupLang } from "./common.js";
import {
  applyTr, call, clearErrors, fieldError, phoneValid, residentIdValid, tr, usccValid,
} from "./account.js";

const $ = (id) => document.getElementById(id);
const form = $("signup");
let message = null; // {key|text, kind}

function kind() {
  return form.querySelector("input[name=kind]:checked").value;
}

function showKind() {
  $("enterprise").classList.toggle("hidden", kind() !== "enterprise");
  $("person").classList.toggle("hidden", kind() !== "person");
}

function paintMessage() {
  const box = $("signup-msg");
  box.textContent = message ? message.text ?? tr(message.key) : "";
  box.className = `form-msg ${message?.kind || ""}`;
}

/** Field id → the API field it sends, per kind. */
const FIELDS = {
  enterprise: { "ent-name": "name", uscc: "uscc", contact: "contact", "legal-rep": "legal_representative" },
  person: { "person-name": "name", "resident-id": "resident_id", phone: "phone" },
};
const LABELS = {
  "ent-name": "ent_name", uscc: "uscc", contact: "contact", "legal-rep": "legal_rep",
  "person-name": "person_name", "resident-id": "resident_id", phone: "phone",
  username: "username", password: "password", password2: "password2",
};

function validate() {
  const k = kind();
  const errors = {};
  const val = (id) => $(id).value.trim();
  const required = k === "enterprise" ? ["ent-name", "uscc"] : ["person-name", "resident-id", "phone"];
  for (const id of [...required, "username", "password", "password2"]) {
    if (!val(id)) errors[id] = tr("f_required", { label: tr(LABELS[id]) });
  }
  if (k === "enterprise" && val("uscc") && !usccValid(val("uscc"))) errors.uscc = tr("f_uscc");
  if (k === "person" && val("resident-id") && !residentIdValid(val("resident-id"))) {
    errors["resident-id"] = tr("f_resident_id");
  }
  if (k === "person" && val("phone") && !phoneValid(val("phone"))) errors.phone = tr("f_phone");
  const user = val("username");
  if (user && !/^\S{3,64}$/.test(user)) errors.username = tr("f_username");
  const pw = $("password").value;
  if (pw && pw.length < 10) errors.password = tr("f_short");
  else if (pw && pw.trim().toLowerCase() === user.toLowerCase()) errors.password = tr("f_same_user");
  if ($("password2").value && $("password2").value !== pw) errors.password2 = tr("f_mismatch");
  return errors;
}

form.addEventListener("change", (e) => {
  if (e.target.name === "kind") {
    clearErrors(form);
    message = null;
    paintMessage();
    showKind();
  }
});

// a field marked wrong is re-checked as it is typed in, so its error goes once it is fixed (new
// errors are shown at 注册 only: one appearing when a field is left would move the button
// away from under the pointer between mousedown and click)
form.addEventListener("input", (e) => {
  const id = e.target.id;
  if (!id || !(id in LABELS) || e.target.getAttribute("aria-invalid") !== "true") return;
  if (!validate()[id]) fieldError(id, "");
});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors(form);
  const errors = validate();
  const ids = Object.keys(errors);
  if (ids.length) {
    for (const id of ids) fieldError(id, errors[id]);
    message = { key: "err_fix", kind: "bad" };
    paintMessage();
    $(ids[0]).focus();
    return;
  }
  const k = kind();
  const body = { kind: k, username: $("username").value.trim(), password: $("password").value };
  for (const [id, field] of Object.entries(FIELDS[k])) {
    const v = $(id).value.trim();
    if (v) body[field] = field === "uscc" || field === "resident_id" ? v.toUpperCase() : v;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await call("/bidders", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    form.classList.add("hidden");
    $("signup-done").classList.remove("hidden");
    $("done-text").textContent = answer?.message && document.documentElement.lang === "zh-CN"
      ? answer.message : tr("signup_done");
    $("done-login").href = `login.html?user=${encodeURIComponent(body.username)}`;
    $("done-login").focus();
  } catch (err) {
    const id = Object.entries({ ...FIELDS[k], username: "username", password: "password" })
      .find(([, field]) => field === err.field)?.[0];
    if (id) {
      fieldError(id, err.message);
      $(id).focus();
      message = { key: "err_fix", kind: "bad" };
    } else {
      message = { text: tr("err_network", { message: err.message }), kind: "bad" };
    }
    paintMessage();
  } finally {
    button.disabled = false;
  }
});

setupLang($("lang"), () => {
  applyTr();
  paintMessage();
});
showKind();
