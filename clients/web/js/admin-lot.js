// 新增标的 (/admin/lot-new.html?session=N): POST /sessions/{id}/lots with the vocabularies of
// ../shared/DOMAIN.md as choices, the holder's 统一社会信用代码 checked here (the server checks it
// too), prices typed in 元 and sent as integer fen, and the increment-guideline warning of the
// answer's ``warnings`` shown (the lot is created all the same). Market admins only.
import { el, param, parseYuan } from "./common.js";
import { clearErrors, fieldError, usccValid } from "./account.js";
import { $, CONTRACT_TYPES, IP_TYPES, RESULT_TYPES, TECH_FIELDS, TRANSACTION_MODES, a, call,
  errText, may, roleText, say, setupPage, whoAmI, post } from "./admin.js";

const sessionId = Number(param("session")) || 0;
let me = null;
let session = null;

const CHOICES = { "result-type": RESULT_TYPES, "ip-type": IP_TYPES, "tech-field": TECH_FIELDS,
  "transaction-mode": TRANSACTION_MODES, "contract-type": CONTRACT_TYPES };

function fillChoices() {
  for (const [id, list] of Object.entries(CHOICES)) {
    const keep = $(id).value;
    $(id).replaceChildren(el("option", { value: "", text: a("choose") }),
      ...list.map((v) => el("option", { value: v, text: v, selected: v === keep })));
  }
}

function paint() {
  if (!me || !session) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  $("title-h").textContent = a("lot_new_title", { name: session.name });
}

const IDS = { title: "title", result_type: "result-type", ip_type: "ip-type",
  technology_field: "tech-field", transaction_mode: "transaction-mode",
  contract_type: "contract-type", holder_name: "holder-name", holder_uscc: "holder-uscc",
  start_price_fen: "start-price", increment_fen: "increment", deposit_fen: "deposit",
  reserve_fen: "reserve", appraisal_fen: "appraisal", non_tech_fen: "non-tech",
  duration_s: "duration", description: "description" };
const LABELS = { title: "title", result_type: "result_type", ip_type: "ip_type",
  technology_field: "tech_field", transaction_mode: "transaction_mode",
  contract_type: "contract_type", holder_name: "holder_name", holder_uscc: "holder_uscc",
  start_price_fen: "start_price_yuan", increment_fen: "increment_yuan" };

// checked as it is typed (a full 18 characters), not on blur: a note appearing or going as
// the field loses focus would move the button under the pointer
$("holder-uscc").addEventListener("input", () => {
  const v = $("holder-uscc").value.trim().toUpperCase();
  fieldError("holder-uscc", v.length >= 18 && !usccValid(v) ? a("f_uscc") : "");
});

$("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors($("form"));
  say($("msg"), "");
  const body = {};
  let bad = false;
  for (const [key, label] of Object.entries(LABELS)) {
    const v = $(IDS[key]).value.trim();
    if (!v) { fieldError(IDS[key], a("f_required", { label: a(label) })); bad = true; }
    else body[key] = v;
  }
  if (body.holder_uscc) {
    body.holder_uscc = body.holder_uscc.toUpperCase();
    if (!usccValid(body.holder_uscc)) { fieldError("holder-uscc", a("f_uscc")); bad = true; }
  }
  for (const key of ["start_price_fen", "increment_fen", "deposit_fen", "reserve_fen",
    "appraisal_fen", "non_tech_fen"]) {
    const v = $(IDS[key]).value.trim();
    if (!v) continue;
    const fen = parseYuan(v);
    if (fen === null || (fen <= 0 && ["start_price_fen", "increment_fen"].includes(key))) {
      fieldError(IDS[key], a("f_amount"));
      bad = true;
    } else body[key] = fen;
  }
  if (session.mode === "timed") {
    const v = $("duration").value.trim();
    if (!/^\d+$/.test(v) || Number(v) <= 0) { fieldError("duration", a("f_int")); bad = true; }
    else body.duration_s = Number(v) * 60;
  }
  const description = $("description").value.trim();
  if (description) body.description = description;
  if (bad) { say($("msg"), a("err_fix"), "bad"); return; }
  try {
    const lot = await post(`/sessions/${sessionId}/lots`, body);
    $("done-msg").textContent = a("lot_created", { title: lot.title });
    const warnings = lot.warnings || [];
    $("warnings").replaceChildren(el("strong", { text: a("guideline") }),
      ...warnings.map((w) => el("p", { text: w.message })));
    $("warnings").classList.toggle("hidden", !warnings.length);
    $("done").classList.remove("hidden");
    $("done").scrollIntoView({ block: "nearest" });
  } catch (err) {
    const id = IDS[err.field];
    if (id) fieldError(id, err.message);
    say($("msg"), errText(err), "bad");
  }
});

async function load() {
  me = await whoAmI();
  if (!me) return;
  session = await call(`/sessions/${sessionId}`).catch(() => null);
  if (!session || !may(me.role, "manage")
    || (me.role !== "admin" && !(me.scope || []).includes(session.market_code))) {
    session = null;
    $("gate").textContent = a("no_access");
    $("gate").classList.remove("hidden");
    return;
  }
  $("back").href = `session.html?id=${sessionId}`;
  $("duration-field").classList.toggle("hidden", session.mode !== "timed");
  $("content").classList.remove("hidden");
  paint();
}

setupPage(() => { fillChoices(); paint(); });
load().catch((err) => say($("msg"), errText(err), "bad"));
