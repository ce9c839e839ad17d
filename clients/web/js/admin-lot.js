// 新增标的 (/admin/lot-new.html?session=N): POST /sessions/{id}/lots with the vocabularies of
// ../shared/DOMAIN.md as choices, the holder's 统一社会信用代码 checked here (the server checks it
// too), prices typed in 元 and sent as integer fen, and the increment-guideline warning of the
// answer's ``warnings`` shown (the lot is created all the same). Market admins only.
import { el, param } from "./common.js";
import { clearErrors } from "./account.js";
import { $, a, call, errText, may, roleText, say, setupPage, whoAmI, post } from "./admin.js";
import { formatError, paintFormat, readFormat } from "./admin-lot-format.js";
import { lotForm } from "./admin-lot-form.js";

const sessionId = Number(param("session")) || 0;
let me = null;
let session = null;
const form = lotForm();

function paint() {
  if (!me || !session) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  $("title-h").textContent = a("lot_new_title", { name: session.name });
}

$("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors($("form"));
  say($("msg"), "");
  const main = form.read(session.mode);
  const terms = readFormat();
  if (!main || !terms) { say($("msg"), () => a("err_fix"), "bad"); return; }
  const body = { ...main, ...terms };
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
    if (!form.serverError(err)) formatError(err);
    say($("msg"), () => errText(err), "bad");
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
  $("starts-at-field").classList.toggle("hidden", session.mode !== "timed");
  $("content").classList.remove("hidden");
  paint();
}

setupPage(() => { form.fillChoices(); paintFormat(); paint(); });
load().catch((err) => say($("msg"), () => errText(err), "bad"));
