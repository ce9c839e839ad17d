// 报名 (apply.html?session=N, or ?lot=N for that lot's session): read the session's 拍卖公告 and
// 竞买须知 and agree; name an agent if any; upload documents; then follow the registration —
// 已申请 / 已通过 / 已驳回 (with the reason), the deposit asked for (amount, payee, the transfer
// reference, deadline) and, once finance confirms it, the paddle and links to bid. The status is
// polled every few seconds while the page is open (GET /registrations/{id}), so a change shows
// without a reload. The refund account (户名, 开户行, 账号: all three or none, the number 6–32
// digits) is given with the application or later on the status card, until the deposit is
// forfeited (PUT /registrations/{id}/refund-account). Every write carries the cookie login's
// CSRF value (account.js ``post``).
import { api, dateTime, el, param, setupLang, yuan } from "./common.js";
import {
  applyTr, call, clearErrors, depositState, fieldError, loginHref, post, residentIdValid, tr,
  whoAmI,
} from "./account.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 3000;
const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = ["image/png", "image/jpeg", "image/webp", "application/pdf"];

let sessionId = Number(param("session")) || 0;
let session = null;
let me = null;
let reg = null; // GET /registrations/{id}
let invited = null; // a registration the market's desk made: the bidder accepts it here
let lots = [];
let gate = null; // key of the reason the form is not offered
let poller = 0;
const messages = { "apply-msg": null, "more-msg": null, "refund-msg": null };
let refundShown = null; // the registration id whose refund account the status card's form shows

function say(box, text, kind) {
  messages[box] = text ? { text, kind } : null;
  $(box).textContent = text || "";
  $(box).className = `form-msg ${kind || ""}`;
}

/** The refund account typed in the three boxes ``ids`` (name, bank, number): the body's fields,
 * {} when all three are empty, or null with each problem named under its box. */
function refundAccount(ids, required = false) {
  const [name, bank, number] = ids.map((id) => $(id).value.trim());
  if (!name && !bank && !number && !required) return {};
  let ok = true;
  for (const [id, value] of [[ids[0], name], [ids[1], bank]]) {
    if (!value) { fieldError(id, tr("f_refund_all")); ok = false; }
  }
  const digits = number.replace(/[\s-]/g, "");
  if (!/^[0-9][0-9 -]*[0-9]$/.test(number) || digits.length < 6 || digits.length > 32) {
    fieldError(ids[2], number ? tr("f_refund_account") : tr("f_refund_all"));
    ok = false;
  }
  return ok ? { refund_name: name, refund_bank: bank, refund_account: number } : null;
}

const REFUND_FIELDS = { refund_name: 0, refund_bank: 1, refund_account: 2 };

function fileProblem(file) {
  const type = file.type || (/\.pdf$/i.test(file.name) ? "application/pdf" : "");
  if (!TYPES.includes(type)) return tr("f_file_type");
  if (file.size > MAX_BYTES || file.size === 0) return tr("f_file_size");
  return "";
}

/** Each file as the raw request body (its type in Content-Type, name and label in the query). */
async function upload(regId, files, label) {
  const done = [];
  for (const file of files) {
    const type = file.type || "application/pdf";
    const q = `filename=${encodeURIComponent(file.name)}&label=${encodeURIComponent(label)}`;
    await post(`/registrations/${regId}/documents?${q}`, undefined, {
      headers: { "Content-Type": type }, body: file,
    });
    done.push(file.name);
  }
  return done;
}

function renderSession() {
  if (!session) return;
  $("apply-title").textContent = tr("apply_for", { name: session.name });
  document.title = `${tr("apply_title")} · ${session.name}`;
  const facts = [`${tr("session")} ${dateTime(session.starts_at)}`];
  if (session.registration_deadline) facts.push(`${tr("deadline")} ${dateTime(session.registration_deadline)}`);
  if (session.contact_phone) facts.push(`${tr("contact_phone")} ${session.contact_phone}`);
  $("session-facts").textContent = facts.join(" · ");
  $("announcement").textContent = session.announcement || tr("none_given");
  $("terms").textContent = session.terms || tr("none_given");
}

function renderGate() {
  $("gate").classList.toggle("hidden", !gate);
  if (gate) $("gate-text").textContent = tr(gate);
  $("gate-login").href = loginHref();
  $("gate-login").classList.toggle("hidden", gate === "no_session");
}

function row(list, key, value) {
  if (value === null || value === undefined || value === "") return;
  list.append(el("dt", { text: tr(key) }), el("dd", { "data-k": key, text: String(value) }));
}

function renderReg() {
  const showForm = !gate && session && !reg;
  $("apply-card").classList.toggle("hidden", !showForm);
  $("status-card").classList.toggle("hidden", !reg);
  if (!reg) return;
  if (reg.status !== "applied") $("reg-note").textContent = "";
  const badge = $("reg-status");
  badge.textContent = tr(`status_${reg.status}`);
  badge.className = `reg-status rs-${reg.status}`;
  badge.dataset.status = reg.status;
  const rejected = reg.status === "rejected";
  $("reg-reason").classList.toggle("hidden", !rejected || !reg.reason);
  $("reg-reason").textContent = rejected ? `${tr("reason")}: ${reg.reason || ""}` : "";
  // the deposit asked for
  const dep = reg.deposit || {};
  const dl = $("deposit");
  dl.textContent = "";
  row(dl, "deposit_amount", yuan(dep.amount_fen ?? 0) + (dep.state ? "" : ` (${tr("before_approval")})`));
  row(dl, "deposit_state", depositState(dep.state));
  row(dl, "payee_name", dep.payee_name);
  row(dl, "payee_bank", dep.payee_bank);
  row(dl, "payee_account", dep.payee_account);
  row(dl, "reference", dep.reference);
  row(dl, "deadline", dep.deadline ? dateTime(dep.deadline) : "");
  if (reg.agent) row(dl, "agent_name", reg.agent.name);
  row(dl, "applied_at", reg.created_at ? dateTime(reg.created_at) : "");
  row(dl, "agreed_at", reg.agreed_at ? dateTime(reg.agreed_at) : "");
  row(dl, "contact_phone", reg.session?.contact_phone);
  // the paddle and the way to bid
  const paid = reg.status === "deposit_paid" && reg.paddle;
  $("paddle-box").classList.toggle("hidden", !paid);
  if (paid) {
    $("paddle").textContent = tr("paddle_is", { paddle: reg.paddle });
    const list = $("bid-links");
    list.textContent = "";
    for (const lot of lots) {
      list.append(el("li", { class: "row" },
        el("span", { class: "grow", text: `${lot.ordinal}. ${lot.title}` }),
        el("a", { class: "btn primary", href: `lot.html?id=${lot.id}`,
          "aria-label": `${tr("go_bid")}: ${lot.title}`, text: tr("go_bid") })));
    }
  }
  const docs = $("docs");
  docs.textContent = "";
  for (const d of reg.documents || []) {
    docs.append(el("li", {}, el("a", {
      href: `/api/v1/registrations/${reg.id}/documents/${d.id}`, text: d.filename,
    }), ` · ${d.label || ""} · ${Math.ceil((d.size || d.size_bytes || 0) / 1024)} KB`));
  }
  if (!reg.documents?.length) docs.append(el("li", { class: "muted", text: tr("nothing_yet") }));
  $("more-docs").classList.toggle("hidden",
    !["applied", "approved", "deposit_paid"].includes(reg.status));
  // the refund account: filled once per registration (a poll must not overwrite typing)
  const account = reg.refund_account || {};
  $("refund-none").classList.toggle("hidden", Boolean(account.refund_account));
  $("refund-form").classList.toggle("hidden", ["forfeited", "rejected", "withdrawn"]
    .includes(reg.status));
  if (refundShown !== reg.id) {
    refundShown = reg.id;
    $("acct-name").value = account.refund_name || "";
    $("acct-bank").value = account.refund_bank || "";
    $("acct-number").value = account.refund_account || "";
  }
}

function render() {
  applyTr();
  renderSession();
  renderGate();
  renderReg();
}

async function refresh() {
  if (!reg) return;
  try {
    reg = await api(`/registrations/${reg.id}`);
    renderReg();
  } catch {
    // a missed poll is retried at the next tick
  }
}

function follow() {
  if (!poller) poller = setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);
}

$("agree").addEventListener("change", () => {
  if ($("agree").checked && messages["apply-msg"]?.text === tr("agree_needed")) say("apply-msg", "");
});

$("has-agent").addEventListener("change", () => {
  $("agent").classList.toggle("hidden", !$("has-agent").checked);
});

$("apply").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = $("apply");
  clearErrors(form);
  say("apply-msg", "");
  let bad = "";
  if (!$("agree").checked) bad = tr("agree_needed");
  const agent = $("has-agent").checked;
  if (agent) {
    if (!$("agent-name").value.trim()) fieldError("agent-name", tr("f_required", { label: tr("agent_name") }));
    if (!residentIdValid($("agent-id").value)) fieldError("agent-id", tr("f_resident_id"));
    if (form.querySelector("[aria-invalid=true]")) bad = bad || tr("err_fix");
  }
  const refund = refundAccount(["refund-name", "refund-bank", "refund-account"]);
  if (!refund) bad = bad || tr("err_fix");
  const files = [...$("doc-file").files];
  const problem = files.map(fileProblem).find(Boolean);
  if (problem) {
    fieldError("doc-file", problem);
    bad = bad || tr("err_fix");
  }
  if (bad) {
    say("apply-msg", bad, "bad");
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const made = invited
      ? await post(`/registrations/${invited.id}/accept`, { agreed: true })
      : await post(`/sessions/${sessionId}/registrations`,
        { bidder_id: me.bidder_id, agreed: true, ...refund });
    if (invited && refund.refund_account) {
      await post(`/registrations/${made.id}/refund-account`, refund, { method: "PUT" });
    }
    if (agent) {
      await post(`/registrations/${made.id}/agent`, {
        agent_name: $("agent-name").value.trim(),
        agent_resident_id: $("agent-id").value.trim().toUpperCase(),
      });
    }
    if (files.length) await upload(made.id, files, $("doc-label").value);
    reg = await api(`/registrations/${made.id}`);
    render();
    follow();
    $("reg-note").textContent = tr("applied_ok");
  } catch (err) {
    const id = { agent_name: "agent-name", agent_resident_id: "agent-id", file: "doc-file",
      filename: "doc-file", refund_name: "refund-name", refund_bank: "refund-bank",
      refund_account: "refund-account" }[err.field];
    if (id) fieldError(id, err.message);
    say("apply-msg", tr("err_network", { message: err.message }), "bad");
  } finally {
    button.disabled = false;
  }
});

$("more-docs").addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors($("more-docs"));
  const files = [...$("more-file").files];
  const problem = files.length ? files.map(fileProblem).find(Boolean) : tr("f_file_none");
  if (problem) {
    fieldError("more-file", problem);
    return;
  }
  try {
    const names = await upload(reg.id, files, $("more-label").value);
    $("more-file").value = "";
    say("more-msg", tr("uploaded", { name: names.join(", ") }), "good");
    await refresh();
  } catch (err) {
    say("more-msg", tr("err_network", { message: err.message }), "bad");
  }
});

$("refund-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const ids = ["acct-name", "acct-bank", "acct-number"];
  clearErrors($("refund-form"));
  say("refund-msg", "");
  const refund = refundAccount(ids, true);
  if (!refund) {
    say("refund-msg", tr("err_fix"), "bad");
    return;
  }
  try {
    const saved = await post(`/registrations/${reg.id}/refund-account`, refund, { method: "PUT" });
    $("acct-number").value = saved.refund_account;
    reg = { ...reg, refund_account: saved };
    renderReg();
    say("refund-msg", tr("refund_saved"), "good");
  } catch (err) {
    if (err.field in REFUND_FIELDS) fieldError(ids[REFUND_FIELDS[err.field]], err.message);
    say("refund-msg", tr("err_network", { message: err.message }), "bad");
  }
});

async function load() {
  if (!sessionId && param("lot")) {
    const lot = await api(`/lots/${Number(param("lot"))}`).catch(() => null);
    sessionId = lot?.session_id || 0;
  }
  session = sessionId ? await api(`/sessions/${sessionId}`).catch(() => null) : null;
  if (!session) {
    gate = "no_session";
    return;
  }
  lots = (await api(`/sessions/${sessionId}/lots`).catch(() => ({ lots: [] }))).lots;
  me = await whoAmI().catch(() => null);
  if (!me) {
    gate = "need_login";
    return;
  }
  if (me.role !== "bidder" || !me.bidder_id) {
    gate = "not_bidder";
    return;
  }
  const mine = await api("/registrations/mine");
  const found = mine.registrations.find((r) => r.session_id === sessionId);
  if (found?.status === "invited") {
    invited = found; // the form stays: agreeing accepts the desk's registration
  } else if (found) {
    reg = await call(`/registrations/${found.id}`);
    follow();
  }
}

setupLang($("lang"), render);
load().then(render, (err) => {
  $("gate").classList.remove("hidden");
  $("gate-text").textContent = tr("err_network", { message: err.message });
});
