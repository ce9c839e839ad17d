// 新建场次 (/admin/session-new.html?market=CODE): POST /sessions with the increment table as
// editable rows (元 on the page, integer fen on the wire), the texts, the registration deadline,
// the contact phone and the deposit payee. Market admins (and the platform admin) only. The
// session is made as a draft (``draft: true``): it is published from its page once it has lots.
// A timed session may be given its schedule (admin-schedule.js).
import { el, parseYuan } from "./common.js";
import { clearErrors, fieldError } from "./account.js";
import { $, a, cstToRfc, errText, fenToInput, may, myMarkets, post, roleText, say, sessionLink,
  setupPage, whoAmI } from "./admin.js";
import { SCHEDULE_IDS, readSchedule, showSchedule } from "./admin-schedule.js";

// the default table (docs/http-api.md "Increment tables"), in fen
let bands = [{ from: 0, inc: 200000 }, { from: 10000000, inc: 1000000 },
  { from: 100000000, inc: 5000000 }].map((b) => ({ from: fenToInput(b.from), inc: fenToInput(b.inc) }));
let me = null;

function paintBands() {
  $("bands").replaceChildren(...bands.map((b, i) => {
    const n = i + 1;
    const from = el("input", { id: `band-from-${n}`, inputmode: "decimal", value: b.from,
      "aria-label": `${a("band_n", { n })} ${a("band_from")}`, disabled: i === 0 });
    const inc = el("input", { id: `band-inc-${n}`, inputmode: "decimal", value: b.inc,
      "aria-label": `${a("band_n", { n })} ${a("band_inc")}` });
    from.addEventListener("input", () => { b.from = from.value; });
    inc.addEventListener("input", () => { b.inc = inc.value; });
    const remove = i === 0 ? "" : el("button", { type: "button", class: "link",
      text: a("remove_band", { n }),
      onclick: () => { bands.splice(i, 1); paintBands(); } });
    return el("tr", {}, el("th", { scope: "row", text: a("band_n", { n }) }),
      el("td", {}, from), el("td", {}, inc), el("td", {}, remove));
  }));
}

function paint() {
  if (me) {
    $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  }
  paintBands();
}

$("mode").addEventListener("change", () => showSchedule($("mode").value));

$("add-band").addEventListener("click", () => {
  bands.push({ from: "", inc: "" });
  paintBands();
  $(`band-from-${bands.length}`).focus();
});

/** The table in fen, or null (the error shown) when a row is not an amount or not ascending. */
function table() {
  const out = [];
  for (const [i, b] of bands.entries()) {
    const from = i === 0 ? 0 : parseYuan(b.from);
    const inc = parseYuan(b.inc);
    if (from === null || inc === null || inc <= 0 || (i > 0 && from <= out[i - 1].from_fen)) {
      $("bands-err").textContent = a("f_bands");
      return null;
    }
    out.push({ from_fen: from, inc_fen: inc });
  }
  $("bands-err").textContent = "";
  return out;
}

$("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = $("form");
  clearErrors(form);
  say($("msg"), "");
  let bad = false;
  const need = (id, key) => {
    if (!$(id).value.trim()) { fieldError(id, a("f_required", { label: a(key) })); bad = true; }
  };
  need("name", "session_name");
  need("starts-at", "starts_at");
  const increments = table();
  if (!increments) bad = true;
  const ints = {};
  for (const [id, key] of [["ext-window", "extension_window_s"], ["ext-s", "extension_s"]]) {
    const v = $(id).value.trim();
    if (!/^\d+$/.test(v)) { fieldError(id, a("f_int")); bad = true; } else ints[key] = Number(v);
  }
  const schedule = readSchedule($("mode").value);
  if (!schedule) bad = true;
  if (bad) { say($("msg"), () => a("err_fix"), "bad"); return; }
  const body = {
    market_code: $("market").value, name: $("name").value.trim(), season: $("season").value,
    mode: $("mode").value, starts_at: cstToRfc($("starts-at").value), ...ints, increments,
    draft: true,
  };
  for (const [key, value] of Object.entries(schedule)) {
    if (value !== null) body[key] = value;
  }
  const optional = { announcement: "announcement", terms: "terms",
    contact_phone: "contact-phone", payee_name: "payee-name", payee_bank: "payee-bank",
    payee_account: "payee-account" };
  for (const [key, id] of Object.entries(optional)) {
    const v = $(id).value.trim();
    if (v) body[key] = v;
  }
  if ($("reg-deadline").value) body.registration_deadline = cstToRfc($("reg-deadline").value);
  try {
    const session = await post("/sessions", body);
    location.href = sessionLink(session.id);
  } catch (err) {
    const ids = { name: "name", starts_at: "starts-at", registration_deadline: "reg-deadline",
      contact_phone: "contact-phone", announcement: "announcement", terms: "terms",
      payee_name: "payee-name", payee_bank: "payee-bank", payee_account: "payee-account",
      extension_window_s: "ext-window", extension_s: "ext-s", market_code: "market",
      ...SCHEDULE_IDS };
    const id = ids[err.field];
    if (id) fieldError(id, err.message);
    else if (err.field?.startsWith("increments")) $("bands-err").textContent = err.message;
    say($("msg"), () => errText(err), "bad");
  }
});

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "manage")) {
    $("gate").textContent = a("not_staff");
    $("gate").classList.remove("hidden");
    $("content").classList.add("hidden");
    return;
  }
  const markets = await myMarkets(me);
  const want = new URLSearchParams(location.search).get("market");
  $("market").replaceChildren(...markets.map((m) => el("option", { value: m.code,
    text: `${m.name} (${m.code})`, selected: m.code === want })));
  showSchedule($("mode").value);
  paint();
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
