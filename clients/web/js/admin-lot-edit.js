// 编辑标的 on a lot's admin page (/admin/lot.html?id=N, driven by admin-lot-files.js): the form
// of 新增标的 (admin-lot-form.js: the same vocabularies as choices, amounts in 元, the holder's
// 统一社会信用代码 checked here) filled from GET /lots/{id}/edit; 保存修改 sends PATCH /lots/{id}
// (a blank optional amount goes back to its default) and shows the increment-guideline warning
// of the answer. A timed lot's 开始时间 (its own opening, China Standard Time; blank: with the
// session) is sent only when changed: the server moves it while that opening is ahead (409
// start_passed under the field otherwise); a listing's is shown, not editable (its period runs
// from it). Once bidding started (``editable`` false, or the server's 409 bidding_started) the
// form is disabled under a notice that says why.
import { el } from "./common.js";
import { clearErrors } from "./account.js";
import { $, a, call, errText, post, say } from "./admin.js";
import { lotForm } from "./admin-lot-form.js";
import { toCst } from "./admin-schedule.js";

const form = lotForm("e-");
let lot = null; // the edit form's lot (GET /lots/{id}/edit)
let saved = () => {};

/** Fill the form with lot ``id``; ``onSaved(lot)`` runs after each save. */
export async function loadEdit(id, onSaved) {
  saved = onSaved;
  lot = await call(`/lots/${id}/edit`);
  $("e-duration-field").classList.toggle("hidden", lot.session.mode !== "timed");
  $("e-starts-at-field").classList.toggle("hidden", lot.session.mode !== "timed");
  form.fill(lot);
  lock(!lot.editable);
  paintStart();
}

/** A listing's opening time is read-only (the server refuses to move it). */
function paintStart() {
  const listing = lot?.format === "listing";
  $("e-starts-at").readOnly = listing;
  $("e-starts-at-hint").textContent = a(listing ? "lot_starts_listing" : "lot_starts_hint");
}

/** Redraw what the script wrote (the language switch). */
export function paintEdit() {
  form.fillChoices();
  if (lot && !lot.editable) lock(true);
  paintStart();
}

function lock(closed) {
  $("e-fields").disabled = closed;
  $("e-save").disabled = closed;
  $("e-locked").textContent = closed ? a("lot_locked") : "";
  $("e-locked").classList.toggle("hidden", !closed);
}

$("e-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!lot) return;
  clearErrors($("e-form"));
  say($("e-msg"), "");
  $("e-done").classList.add("hidden");
  const body = form.read(lot.session.mode, { blankIsNull: true });
  if (!body) { say($("e-msg"), () => a("err_fix"), "bad"); return; }
  // an unchanged opening time is not sent: the server would check it again (a session moved
  // since may have left it outside) and refuse it once its time has come
  if (lot.session.mode === "timed" && $("e-starts-at").value === toCst(lot.starts_at)) {
    delete body.starts_at;
  }
  try {
    const answer = await post(`/lots/${lot.id}`, body, { method: "PATCH" });
    lot = { ...lot, ...answer };
    form.fill(lot);
    $("e-done-msg").textContent = a("lot_saved", { title: answer.title });
    const warnings = answer.warnings || [];
    $("e-warnings").replaceChildren(el("strong", { text: a("guideline") }),
      ...warnings.map((w) => el("p", { text: w.message })));
    $("e-warnings").classList.toggle("hidden", !warnings.length);
    $("e-done").classList.remove("hidden");
    saved(lot);
  } catch (err) {
    if (err.code === "bidding_started") {
      lot = { ...lot, editable: false };
      lock(true);
    }
    form.serverError(err);
    say($("e-msg"), () => errText(err), "bad");
  }
});
