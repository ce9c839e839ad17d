// The lot form, one for 新增标的 (lot-new.html: ids as they are) and 编辑标的 (lot.html: ids
// prefixed "e-"): the vocabularies of ../shared/DOMAIN.md as choices (a value imported from a
// spreadsheet outside them is kept as one more choice), the holder's 统一社会信用代码 checked as
// it is typed, amounts typed in 元 and read as integer fen, a timed lot's duration in minutes
// and its own opening time (开始时间, China Standard Time like the session forms; blank: the lot
// opens with its session).
import { el, parseYuan } from "./common.js";
import { fieldError, usccValid } from "./account.js";
import { $, CONTRACT_TYPES, IP_TYPES, RESULT_TYPES, TECH_FIELDS, TRANSACTION_MODES, a, call,
  cstToRfc, fenToInput } from "./admin.js";
import { toCst } from "./admin-schedule.js";

/** The form's element id (without the prefix) of each field of POST /sessions/{id}/lots. */
export const IDS = { title: "title", result_type: "result-type", ip_type: "ip-type",
  technology_field: "tech-field", transaction_mode: "transaction-mode",
  contract_type: "contract-type", holder_name: "holder-name", holder_uscc: "holder-uscc",
  start_price_fen: "start-price", increment_fen: "increment", deposit_fen: "deposit",
  reserve_fen: "reserve", appraisal_fen: "appraisal", non_tech_fen: "non-tech",
  duration_s: "duration", starts_at: "starts-at", description: "description" };
const LABELS = { title: "title", result_type: "result_type", ip_type: "ip_type",
  technology_field: "tech_field", transaction_mode: "transaction_mode",
  contract_type: "contract_type", holder_name: "holder_name", holder_uscc: "holder_uscc",
  start_price_fen: "start_price_yuan", increment_fen: "increment_yuan" };
const CHOICES = { result_type: RESULT_TYPES, ip_type: IP_TYPES, technology_field: TECH_FIELDS,
  transaction_mode: TRANSACTION_MODES, contract_type: CONTRACT_TYPES };
// the lists the server checks today (GET /vocabularies, issue 16), read once; until they come
// (or if they cannot be read) the lists above are offered, and the server decides either way
const served = call("/vocabularies").then((found) => {
  for (const key of Object.keys(CHOICES)) {
    const terms = found.vocabularies?.[key]?.terms;
    if (terms?.length) CHOICES[key] = terms.map((t) => t.label);
  }
  return true;
}).catch(() => false);
const AMOUNTS = ["start_price_fen", "increment_fen", "deposit_fen", "reserve_fen", "appraisal_fen",
  "non_tech_fen"];

/** The form whose ids carry ``prefix``. */
export function lotForm(prefix = "") {
  const id = (key) => prefix + IDS[key];
  const box = (key) => $(id(key));
  const extra = {}; // a field's value outside its vocabulary (an imported lot's), kept as a choice

  function fillChoices() {
    for (const [key, list] of Object.entries(CHOICES)) {
      const keep = box(key).value || extra[key] || "";
      const values = extra[key] && !list.includes(extra[key]) ? [...list, extra[key]] : list;
      box(key).replaceChildren(el("option", { value: "", text: a("choose") }),
        ...values.map((v) => el("option", { value: v, text: v, selected: v === keep })));
    }
  }

  // checked as it is typed (a full 18 characters), not on blur: a note appearing or going as
  // the field loses focus would move the button under the pointer
  box("holder_uscc").addEventListener("input", () => {
    const v = box("holder_uscc").value.trim().toUpperCase();
    fieldError(id("holder_uscc"), v.length >= 18 && !usccValid(v) ? a("f_uscc") : "");
  });

  /** The body for the API, or null with each bad field named. ``blankIsNull``: an optional
   * field left blank is sent as null (an edit: back to its default), else left out. */
  function read(mode, { blankIsNull = false } = {}) {
    const body = {};
    let bad = false;
    for (const [key, label] of Object.entries(LABELS)) {
      const v = box(key).value.trim();
      if (!v) { fieldError(id(key), a("f_required", { label: a(label) })); bad = true; }
      else body[key] = v;
    }
    if (body.holder_uscc) {
      body.holder_uscc = body.holder_uscc.toUpperCase();
      if (!usccValid(body.holder_uscc)) { fieldError(id("holder_uscc"), a("f_uscc")); bad = true; }
    }
    for (const key of AMOUNTS) {
      const v = box(key).value.trim();
      if (!v) {
        if (blankIsNull && !(key in LABELS)) body[key] = null;
        continue;
      }
      const fen = parseYuan(v);
      if (fen === null || (fen <= 0 && key in LABELS)) {
        fieldError(id(key), a("f_amount"));
        bad = true;
      } else body[key] = fen;
    }
    if (mode === "timed") {
      const v = box("duration_s").value.trim();
      if (!/^\d+$/.test(v) || Number(v) <= 0) { fieldError(id("duration_s"), a("f_int")); bad = true; }
      else body.duration_s = Number(v) * 60;
      const at = box("starts_at").value;
      if (at) body.starts_at = cstToRfc(at);
      else if (blankIsNull) body.starts_at = null;
    }
    const description = box("description").value.trim();
    if (description || blankIsNull) body.description = description;
    return bad ? null : body;
  }

  /** Show ``lot`` (the admin's view: GET /lots/{id}/edit) in the form. */
  function fill(lot) {
    for (const key of Object.keys(CHOICES)) extra[key] = lot[key];
    fillChoices();
    for (const key of ["title", "holder_name", "holder_uscc", "description"]) {
      box(key).value = lot[key] || "";
    }
    for (const key of AMOUNTS) {
      const fen = lot[key];
      box(key).value = fen === null || fen === undefined || (fen === 0 && key !== "deposit_fen")
        ? "" : fenToInput(fen);
    }
    box("duration_s").value = lot.duration_s ? String(Math.round(lot.duration_s / 60)) : "";
    box("starts_at").value = toCst(lot.starts_at);
  }

  /** Name the server's refused field under its input; true when it is one of the form's. */
  function serverError(err) {
    if (!IDS[err.field]) return false;
    fieldError(id(err.field), err.message);
    return true;
  }

  served.then((ok) => { if (ok) fillChoices(); });
  return { fillChoices, read, fill, serverError, box };
}
