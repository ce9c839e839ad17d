// 场次 (/admin/session.html?id=N): the session's facts, its lots (新增标的, 编辑, and 上移 /
// 下移 while bidding has not started, for those who manage it), its progress and the links to
// the console and the room screen (those who may run it), and its registrations: approve /
// reject with a reason (the market admin), confirm a deposit in 元 (finance). Each part only
// for the roles docs/roles.md lets use it. 发布状态: a draft is seen by its market's staff only;
// 发布 (who may manage sessions) makes it public (POST /sessions/{id}/publish). A timed
// session's lots are started here (开始竞价, those who may run the sale: POST /lots/{id}/commands
// op open), so it runs with no API call and no console.
import { dateTime, el, lang, param, parseYuan } from "./common.js";
import { $, a, call, errText, fenToInput, may, money, post, roleText, say, setupPage, whoAmI }
  from "./admin.js";

const id = Number(param("id")) || 0;
let me = null;
let session = null;
let lots = [];
let progress = null;
let regs = null; // [{row, detail}]

function paint() {
  if (!me || !session) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  document.title = `${session.name} · ${a("admin")}`;
  $("title").textContent = a("session_title", { name: session.name });
  const facts = [
    ["market", session.market_code],
    ["season", a(`season_${session.season}`)],
    ["mode", a(`mode_${session.mode}`)],
    ["starts_at", dateTime(session.starts_at)],
    ["status", a(`ss_${session.status}`)],
    ["reg_deadline", dateTime(session.registration_deadline)],
    ["ext_rule", a("ext_rule_text", { w: session.extension_window_s, e: session.extension_s })],
    ["increments", (session.increments || []).map((b) => `≥ ${money(b.from_fen)}: +${money(b.inc_fen)}`)
      .join("; ") || a("none")],
    ["contact_phone", session.contact_phone || "—"],
    ["payee_name", [session.payee_name, session.payee_bank, session.payee_account]
      .filter(Boolean).join(" · ") || "—"],
  ];
  $("facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: a(k) }),
    el("dd", { text: v })]));
  paintLots();
  paintPublication();
  paintProgress();
  paintTimedOpen();
  paintRegs();
}

function paintPublication() {
  const draft = !session.published;
  $("pub-state").textContent = a(draft ? "pub_draft" : "pub_published");
  $("pub-state").className = `badge ${draft ? "pub-draft" : "pub-published"}`;
  const can = draft && may(me.role, "manage");
  $("publish").classList.toggle("hidden", !can);
  $("pub-hint").classList.toggle("hidden", !draft);
}

$("publish").addEventListener("click", async () => {
  $("publish").disabled = true;
  try {
    session = await post(`/sessions/${id}/publish`);
    say($("msg"), () => a("published_ok"), "good");
  } catch (err) {
    say($("msg"), () => errText(err), "bad");
  } finally {
    $("publish").disabled = false;
  }
  paint();
});

/** 开始竞价 for each lot of a timed session still to come (the rooms' status, from progress). */
function paintTimedOpen() {
  if (!progress || session.mode !== "timed") return;
  $("timed-open").classList.remove("hidden");
  if (!session.published) {
    $("timed-lots").replaceChildren(el("p", { class: "muted", text: a("open_after_publish") }));
    return;
  }
  const waiting = progress.running_order.filter((l) => l.status === "scheduled");
  if (!waiting.length) {
    $("timed-lots").replaceChildren(el("p", { class: "muted", text: a("no_scheduled") }));
    return;
  }
  $("timed-lots").replaceChildren(el("ul", {}, ...waiting.map((l) => el("li", {},
    el("span", { text: `${l.ordinal}. ${l.title}` }),
    el("button", { type: "button", class: "ok", text: a("start_bidding"),
      "aria-label": a("start_bidding_n", { title: l.title }),
      onclick: (e) => startBidding(e.currentTarget, l) })))));
}

async function startBidding(button, lot) {
  button.disabled = true;
  try {
    // one key per lot: a second click (or a retry) replays the first answer
    await post(`/lots/${lot.lot_id}/commands`, { op: "open", key: `page-open-${lot.lot_id}` });
    say($("open-msg"), () => a("opened_ok", { title: lot.title }), "good");
  } catch (err) {
    say($("open-msg"), () => errText(err), "bad");
  }
  [progress, lots] = await Promise.all([
    call(`/sessions/${id}/progress`).catch(() => progress),
    call(`/sessions/${id}/lots`).then((answer) => answer.lots).catch(() => lots),
  ]);
  paint();
}

function paintLots() {
  if (!lots.length) {
    $("lots").replaceChildren(el("p", { class: "muted", text: a("no_lots") }));
    return;
  }
  const files = may(me.role, "manage"); // 编辑, 图片与附件: who manages the lot's market
  // 上移 / 下移 (PUT /sessions/{id}/order) while every lot is still scheduled
  const order = files && lots.every((l) => l.status === "scheduled");
  const head = ["ordinal", "title", "tech_field", "start_price", "increment", "status",
    ...(files ? ["lot_manage"] : []), ...(order ? ["order"] : [])];
  $("lots").replaceChildren(el("div", { class: "scroll-x" }, el("table", { class: "admin-table" },
    el("thead", {}, el("tr", {}, ...head.map((k) => el("th", { text: a(k) })))),
    el("tbody", {}, ...lots.map((l, i) => el("tr", { "data-lot": String(l.id) },
      el("td", { class: "r", text: String(l.ordinal) }),
      el("td", {}, el("a", { href: `../lot.html?id=${l.id}`, text: l.title })),
      el("td", { text: l.technology_field }),
      el("td", { class: "num", text: money(l.start_price_fen) }),
      el("td", { class: "num", text: money(l.increment_fen) }),
      el("td", {}, el("span", { class: `badge st-${l.status}`, text: a(`st_${l.status}`) })),
      files ? el("td", {}, el("span", { class: "acts nowrap" },
        el("a", { href: `lot.html?id=${l.id}#edit`, text: a("edit"),
          "aria-label": a("edit_n", { title: l.title }) }),
        el("a", { href: `lot.html?id=${l.id}`, text: a("files"),
          "aria-label": a("files_n", { title: l.title }) }))) : null,
      order ? el("td", {}, el("span", { class: "acts nowrap" },
        moveButton(l, i, -1, "move_up"), moveButton(l, i, 1, "move_down"))) : null))))),
  files && !order ? el("p", { class: "small muted", text: a("order_locked") }) : "");
}

function moveButton(lot, index, step, key) {
  const to = index + step;
  return el("button", { type: "button", "data-move": `${lot.id}:${key}`, text: a(key),
    "aria-label": a(`${key}_n`, { title: lot.title }), disabled: to < 0 || to >= lots.length,
    onclick: () => move(lot, index, to, key) });
}

async function move(lot, from, to, key) {
  const ids = lots.map((l) => l.id);
  ids.splice(to, 0, ...ids.splice(from, 1));
  for (const b of document.querySelectorAll("#lots button")) b.disabled = true;
  try {
    lots = (await post(`/sessions/${id}/order`, { lot_ids: ids }, { method: "PUT" })).lots;
    say($("msg"), () => a("moved_ok", { title: lot.title, n: to + 1 }), "good");
  } catch (err) {
    say($("msg"), () => errText(err), "bad");
    lots = (await call(`/sessions/${id}/lots`)).lots;
  }
  paintLots();
  // keyboard use: focus stays on the moved lot (its other button at either end of the list)
  const same = document.querySelector(`[data-move="${lot.id}:${key}"]`);
  const other = document.querySelector(`[data-move="${lot.id}:${key === "move_up"
    ? "move_down" : "move_up"}"]`);
  (same && !same.disabled ? same : other)?.focus();
}

function paintProgress() {
  if (!progress) return;
  const rows = [["registered", String(progress.registered)],
    ["lots_total", String(progress.lots.total)], ["lots_scheduled", String(progress.lots.scheduled)],
    ["lots_open", String(progress.lots.open)], ["lots_sold", String(progress.lots.sold)],
    ["lots_passed", String(progress.lots.passed)], ["hammer_total", money(progress.hammer_total_fen)]];
  $("progress").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: a(k) }),
    el("dd", { class: "num", text: v })]));
}

function paintRegs() {
  if (!regs) return;
  if (!regs.length) {
    $("regs").replaceChildren(el("p", { class: "muted", text: a("no_regs") }));
    return;
  }
  const head = ["bidder", "uscc", "status", "documents", "agent", "applied_at", ""];
  $("regs").replaceChildren(el("div", { class: "scroll-x" }, el("table", { class: "admin-table regs" },
    el("thead", {}, el("tr", {}, ...head.map((k) => el("th", { text: k ? a(k) : "" })))),
    el("tbody", {}, ...regs.map(regRow)))));
}

function regRow({ row, detail }) {
  const name = row.bidder_name || `#${row.bidder_id}`;
  const docs = (row.documents || []).map((d) => el("a", { href: d.url, target: "_blank",
    rel: "noopener", text: d.label ? `${d.label}: ${d.filename}` : d.filename }));
  const agent = detail?.agent ? `${detail.agent.name} (${detail.agent.resident_id})` : a("none");
  const words = lang() === "zh" ? row.status_text : a(`rs_${row.status}`);
  const status = [el("span", { class: `badge rs-${row.status}`, text: words })];
  if (row.paddle) status.push(" ", a("paddle", { paddle: row.paddle }));
  if (row.reason) status.push(el("div", { class: "small muted", text: row.reason }));
  for (const d of detail?.defaults || []) status.push(el("div", { class: "small field-err", text: `${lang() === "zh" ? "悔拍记录" : "Default"}: ${d.market.name} · ${d.title} · ${d.declared_at.slice(0, 10)}` })); // issue 13
  const acts = el("div", { class: "acts" });
  const rid = row.id;
  if (may(me.role, "desk") && row.status === "applied") {
    acts.append(el("button", { type: "button", class: "ok", "aria-label": a("approve_n", { name }),
      text: a("approve"), onclick: () => act(`/registrations/${rid}/approve`, undefined,
        a("approved_ok", { name })) }));
  }
  if (may(me.role, "desk") && ["applied", "approved", "deposit_paid"].includes(row.status)) {
    const reason = el("input", { id: `reason-${rid}`, maxlength: "500",
      "aria-label": a("reason_n", { name }), placeholder: a("reason") });
    acts.append(el("span", { class: "inline" }, reason, el("button", { type: "button",
      class: "warn", "aria-label": a("reject_n", { name }), text: a("reject"),
      onclick: () => {
        if (!reason.value.trim()) {
          reason.setAttribute("aria-invalid", "true");
          say($("regs-msg"), () => a("f_required", { label: a("reason") }), "bad");
          reason.focus();
          return;
        }
        act(`/registrations/${rid}/reject`, { reason: reason.value.trim() },
          a("rejected_ok", { name }));
      } })));
  }
  if (may(me.role, "deposit") && row.status === "approved") {
    const due = detail?.deposit?.amount_fen ?? row.deposit_fen;
    const amount = el("input", { id: `amount-${rid}`, inputmode: "decimal", class: "w-7em",
      "aria-label": a("deposit_amount_n", { name }), value: due ? fenToInput(due) : "" });
    acts.append(el("span", { class: "inline" }, amount, el("button", { type: "button",
      class: "primary", "aria-label": a("confirm_n", { name }), text: a("confirm_deposit"),
      onclick: () => {
        const fen = parseYuan(amount.value);
        if (fen === null || fen <= 0) {
          amount.setAttribute("aria-invalid", "true");
          say($("regs-msg"), () => a("f_amount"), "bad");
          amount.focus();
          return;
        }
        act(`/registrations/${rid}/deposit`, { deposit_fen: fen }, null, name);
      } })), due ? el("span", { class: "small muted", text: a("deposit_required",
      { amount: money(due) }) }) : null);
  }
  return el("tr", { "data-reg": String(rid) },
    el("td", { text: name }), el("td", { class: "mono", text: row.bidder_uscc || "—" }),
    el("td", {}, ...status), el("td", {}, ...(docs.length ? docs.flatMap((d) => [d, el("br")])
      : [a("none")])),
    el("td", { text: agent }), el("td", { text: dateTime(detail?.created_at) }),
    el("td", {}, acts));
}

async function act(path, body, done, paidName) {
  for (const b of document.querySelectorAll("#regs button")) b.disabled = true;
  try {
    const answer = await post(path, body);
    say($("regs-msg"), done || a("paid_ok", { name: paidName, paddle: answer.paddle }), "good");
  } catch (err) {
    say($("regs-msg"), () => errText(err), "bad");
  }
  await loadRegs();
  paint();
}

async function loadRegs() {
  const answer = await call(`/sessions/${id}/registrations`);
  regs = await Promise.all(answer.registrations.map(async (row) => ({
    row, detail: await call(`/registrations/${row.id}`).catch(() => null),
  })));
}

$("mint").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("auctioneer").value.trim();
  if (!name) {
    say($("mint-msg"), () => a("f_required", { label: a("auctioneer_name") }), "bad");
    $("auctioneer").focus();
    return;
  }
  try {
    const answer = await post(`/sessions/${id}/staff-tokens`, { role: "auctioneer", name });
    // console.js takes its token from #token=… (kept per tab, removed from the address)
    const href = `../console.html?session=${id}#token=${encodeURIComponent(answer.token)}`;
    $("mint-msg").replaceChildren(a("console_ready"), " ",
      el("a", { href, target: "_blank", rel: "noopener", text: a("console") }));
    $("mint-msg").className = "form-msg good";
  } catch (err) {
    say($("mint-msg"), () => errText(err), "bad");
  }
});

function deny() {
  $("gate").textContent = a("no_access");
  $("gate").classList.remove("hidden");
  $("content").classList.add("hidden");
}

async function load() {
  me = await whoAmI();
  if (!me) return;
  try {
    session = await call(`/sessions/${id}`);
  } catch (err) {
    if (err.status === 404) { deny(); return; }
    throw err;
  }
  if (me.role !== "admin" && !(me.scope || []).includes(session.market_code)) {
    session = null;
    deny();
    return;
  }
  $("content").classList.remove("hidden");
  lots = (await call(`/sessions/${id}/lots`)).lots;
  if (may(me.role, "manage")) {
    $("new-lot").href = `lot-new.html?session=${id}`;
    $("new-lot").classList.remove("hidden");
    $("import-lots").href = `lot-import.html?session=${id}`;
    $("import-lots").classList.remove("hidden");
    $("mint").classList.remove("hidden");
  }
  if (may(me.role, "run")) {
    $("run-card").classList.remove("hidden");
    $("progress-card").classList.remove("hidden");
    $("screen-link").href = `../screen.html?session=${id}`;
    if (me.role === "auctioneer") {
      // the console's websocket hello without a token takes this login's cookie
      $("console-own").href = `../console.html?session=${id}`;
      $("console-own").classList.remove("hidden");
    }
    progress = await call(`/sessions/${id}/progress`).catch(() => null);
  }
  if (may(me.role, "regs")) {
    $("regs-card").classList.remove("hidden");
    await loadRegs();
  }
  paint();
}

setupPage(paint);
load().catch((err) => say($("msg"), () => errText(err), "bad"));
