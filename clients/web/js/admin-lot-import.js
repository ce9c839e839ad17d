// 表格导入标的 (/admin/lot-import.html?session=N): the template (GET /lots/import-template.xlsx)
// and the upload (POST /sessions/{id}/lots/import, multipart ``file``; ``?dry_run=true`` to
// check only). All rows or none: a refusal lists every bad row (行, 列, 原因); an import lists the
// lots made with their increment-guideline warnings. Market admins only.
import { apiHeaders, el, param } from "./common.js";
import { $, a, call, errText, may, money, roleText, say, setupPage, whoAmI } from "./admin.js";

const sessionId = Number(param("session")) || 0;
let me = null;
let session = null;
let last = null; // {dry, answer} or {errors}

function csrf() {
  const m = /(?:^|;\s*)auction_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : "";
}

function paint() {
  if (!me || !session) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  $("title-h").textContent = a("import_title", { name: session.name });
  paintReport();
}

function paintReport() {
  if (!last) { $("report").classList.add("hidden"); return; }
  $("report").classList.remove("hidden");
  if (last.errors) {
    $("report-h").textContent = a("import_errors", { n: last.errors.length });
    $("report-body").replaceChildren(el("div", { class: "scroll-x" },
      el("table", { class: "admin-table" },
        el("thead", {}, el("tr", {}, ...["import_row", "import_col", "import_why"]
          .map((k) => el("th", { text: a(k) })))),
        el("tbody", {}, ...last.errors.map((e) => el("tr", {},
          el("td", { class: "r", text: String(e.row) }), el("td", { text: e.column || e.field || "—" }),
          el("td", { text: e.message })))))));
    return;
  }
  const lots = last.answer.lots || [];
  $("report-h").textContent = a(last.dry ? "import_checked" : "import_done", { n: lots.length });
  $("report-body").replaceChildren(el("div", { class: "scroll-x" },
    el("table", { class: "admin-table" },
      el("thead", {}, el("tr", {}, ...["import_row", "title", "start_price", "increment", "guideline"]
        .map((k) => el("th", { text: a(k) })))),
      el("tbody", {}, ...lots.map((l) => el("tr", {},
        el("td", { class: "r", text: String(l.row) }), el("td", { text: l.title }),
        el("td", { class: "num", text: money(l.start_price_fen) }),
        el("td", { class: "num", text: money(l.increment_fen) }),
        el("td", { class: (l.warnings || []).length ? "warn-text" : "",
          text: (l.warnings || []).map((w) => w.message).join("; ") || "—" })))))));
}

async function send(dry) {
  const file = $("file").files[0];
  say($("msg"), "");
  if (!file) {
    say($("msg"), () => a("import_none_chosen"), "bad");
    $("file").focus();
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  for (const b of document.querySelectorAll("#form button")) b.disabled = true;
  try {
    const r = await fetch(`/api/v1/sessions/${sessionId}/lots/import${dry ? "?dry_run=true" : ""}`,
      { method: "POST", body: form, headers: apiHeaders({ "X-CSRF-Token": csrf() }) });
    const body = await r.json().catch(() => null);
    if (r.ok) {
      last = { dry, answer: body };
      if (!dry) $("file").value = "";
    } else if (body?.error?.code === "import_failed") {
      last = { errors: body.error.errors || [] }; // the report below says it, row by row
    } else {
      last = null;
      say($("msg"), () => errText(new Error(body?.error?.message || `HTTP ${r.status}`)), "bad");
    }
  } catch (err) {
    say($("msg"), () => errText(err), "bad");
  } finally {
    for (const b of document.querySelectorAll("#form button")) b.disabled = false;
  }
  paint();
}

$("check").addEventListener("click", () => send(true));
$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  send(false);
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
  $("content").classList.remove("hidden");
  paint();
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
