// 标的管理 (/admin/lot.html?id=N): the lot's own opening time under the heading when it has one,
// 编辑标的 (admin-lot-edit.js), 重新挂拍 (admin-lot-relist.js) and a lot's pictures and
// attachments (docs/http-api.md "Files"):
// upload one (POST /lots/{id}/attachments, the file itself as the body, its name and label in
// the query; PNG / JPEG / WebP / PDF, 1 byte to 5 MiB, checked here before sending and by the
// server), list them with a thumbnail or link, delete one. Staff who manage the lot's market.
import { dateTime, el, param } from "./common.js";
import { clearErrors, csrf, fieldError } from "./account.js";
import { $, a, call, errText, may, roleText, say, scopedSession, sessionLink, setupPage,
  table, whoAmI } from "./admin.js";
import { loadEdit, paintEdit } from "./admin-lot-edit.js";
import { loadRelist, paintRelist } from "./admin-lot-relist.js";

const id = Number(param("id")) || 0;
const TYPES = ["image/png", "image/jpeg", "image/webp", "application/pdf"];
const MAX_BYTES = 5 * 1024 * 1024;
let me = null;
let lot = null;

function size(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} B`;
}

function paint() {
  if (!me || !lot) return;
  $("me-line").textContent = `${me.account?.username || me.subject} · ${roleText(me.role)}`;
  const title = a("lot_admin_title", { title: lot.title });
  $("title").textContent = title;
  document.title = `${title} · ${a("admin")}`;
  // a timed lot's own opening time, when it has one (else it opens with its session)
  $("own-start").textContent = lot.starts_at ? a("lot_own_start", { at: dateTime(lot.starts_at) })
    : "";
  $("own-start").classList.toggle("hidden", !lot.starts_at);
  const files = lot.attachments || [];
  if (!files.length) {
    $("files").replaceChildren(el("p", { class: "muted", text: a("no_files") }));
    return;
  }
  $("files").replaceChildren(table(["", "file_name", "file_type", "file_size", "uploaded_at", ""],
    files.map((f) => {
      const name = f.label ? `${f.label}: ${f.filename}` : f.filename;
      const preview = f.content_type.startsWith("image/")
        ? el("img", { src: f.url, alt: name, class: "thumb", loading: "lazy" }) : "PDF";
      return [preview instanceof Node ? preview : el("span", { text: preview }),
        el("a", { href: f.url, target: "_blank", rel: "noopener", text: name }),
        f.content_type, size(f.size_bytes), dateTime(f.uploaded_at),
        el("button", { type: "button", class: "warn", text: a("delete"),
          "aria-label": a("delete_n", { name }), onclick: () => remove(f, name) })];
    }), "files"));
}

async function reload() {
  lot = await call(`/lots/${id}`);
  paint();
}

async function remove(file, name) {
  try {
    await call(`/lots/${id}/attachments/${file.id}`, { method: "DELETE",
      headers: { "X-CSRF-Token": csrf() } });
    say($("msg"), () => a("deleted_ok", { name }), "good");
  } catch (err) {
    say($("msg"), () => errText(err), "bad");
  }
  await reload();
}

$("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors($("form"));
  say($("msg"), "");
  const file = $("file").files[0];
  const problem = !file ? "f_file" : !TYPES.includes(file.type) ? "f_type"
    : file.size > MAX_BYTES ? "f_size" : "";
  if (problem) {
    fieldError("file", a(problem));
    say($("msg"), () => a("err_fix"), "bad");
    $("file").focus();
    return;
  }
  const q = new URLSearchParams({ filename: file.name });
  const label = $("label").value.trim();
  if (label) q.set("label", label);
  try {
    await call(`/lots/${id}/attachments?${q}`, { method: "POST", body: file,
      headers: { "Content-Type": file.type, "X-CSRF-Token": csrf() } });
    $("form").reset();
    say($("msg"), () => a("uploaded_ok", { name: file.name }), "good");
  } catch (err) {
    const box = { file: "file", content_type: "file", filename: "file", label: "label" }[err.field];
    if (box) fieldError(box, err.message);
    say($("msg"), () => errText(err), "bad");
  }
  await reload();
});

async function load() {
  me = await whoAmI();
  if (!me) return;
  if (!may(me.role, "manage")) {
    $("gate").textContent = a("no_right");
    $("gate").classList.remove("hidden");
    return;
  }
  try {
    lot = await call(`/lots/${id}`);
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  // the lot's session decides the market (and shows the page, or the no-access notice)
  if (!(lot && await scopedSession(me, lot.session_id))) {
    lot = null;
    if (!$("gate").textContent) {
      $("gate").textContent = a("no_access");
      $("gate").classList.remove("hidden");
    }
    return;
  }
  $("back").href = sessionLink(lot.session_id);
  paint();
  await loadRelist(lot);  // 重新挂拍 (issue 15): a passed or defaulted lot
  // 编辑标的: a save renames the page's heading too
  await loadEdit(id, (edited) => {
    lot = { ...lot, title: edited.title, starts_at: edited.starts_at };
    paint();
  });
  if (location.hash === "#edit") $("edit").scrollIntoView({ block: "start" });
}

setupPage(() => { paint(); paintEdit(); paintRelist(); });
load().catch((err) => say($("msg"), () => errText(err), "bad"));
