// 合同登记接收地址 on 市场与人员 (issue 13 item 3): where a market's registration packets go
// (GET /markets/{code}/registration-endpoint: its own URL, one inherited from the nearest market
// above, the deployment's default, or none: filed to disk), set its own URL and signing secret
// (PUT; the secret is never shown back, only whether there is one) and go back to inheriting
// (DELETE). Market admins of the market or above and the platform admin (docs/roles.md); the
// page that imports this offers it to them only.
import { el, lang } from "./common.js";
import { $, call, errText, post, say } from "./admin.js";

const E = {
  zh: {
    ep_h: "合同登记接收地址", ep_market: "市场", ep_url: "接收地址 (URL)",
    ep_secret: "签名密钥", ep_secret_hint: "用于签名移交材料和核验登记机构的回调; 保存后不再显示。",
    ep_save: "保存接收地址", ep_inherit: "恢复继承上级", ep_now: "当前",
    ep_source: "来源", ep_has_secret: "签名密钥",
    src_own: "本市场自设", src_inherited: "继承自 {name}", src_default: "部署默认地址",
    src_none: "未设置: 登记材料存档, 待人工上传", secret_yes: "已设置", secret_no: "未设置",
    ep_saved: "已保存 {name} 的接收地址", ep_removed: "{name} 已恢复继承: {source}",
    ep_need_url: "请填写接收地址", ep_need_secret: "请填写签名密钥",
    ep_bad_url: "接收地址应以 http:// 或 https:// 开头",
  },
  en: {
    ep_h: "Contract registration endpoint", ep_market: "Market", ep_url: "Endpoint (URL)",
    ep_secret: "Signing secret",
    ep_secret_hint: "Signs the packets and verifies the office's callbacks; never shown again.",
    ep_save: "Save endpoint", ep_inherit: "Inherit from above again", ep_now: "Now",
    ep_source: "Source", ep_has_secret: "Signing secret",
    src_own: "set on this market", src_inherited: "inherited from {name}",
    src_default: "the deployment's default", src_none: "none: packets are filed for manual upload",
    secret_yes: "set", secret_no: "not set",
    ep_saved: "Endpoint of {name} saved", ep_removed: "{name} inherits again: {source}",
    ep_need_url: "Enter the endpoint", ep_need_secret: "Enter the signing secret",
    ep_bad_url: "The endpoint starts with http:// or https://",
  },
};

function e(key, vars = {}) {
  const text = (E[lang()] || E.zh)[key] ?? E.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

let markets = [];
let view = null; // the chosen market's GET answer

const nameOf = (code) => {
  const m = markets.find((x) => x.code === code);
  return m ? `${m.name} (${m.code})` : code;
};

function sourceText(v) {
  if (v.source === "inherited") return e("src_inherited", { name: nameOf(v.inherited_from) });
  return e(`src_${v.source}`);
}

/** The section's texts and the chosen market's view (again on a language switch). */
export function paintEndpoint() {
  if (!$("ep-card")) return;
  for (const node of document.querySelectorAll("[data-e]")) node.textContent = e(node.dataset.e);
  const box = $("ep-market");
  const keep = box.value;
  box.replaceChildren(...markets.map((m) => el("option", { value: m.code,
    text: `${m.name} (${m.code})` })));
  if (keep) box.value = keep;
  if (!view) {
    $("ep-view").replaceChildren();
    return;
  }
  $("ep-view").replaceChildren(
    el("dt", { text: e("ep_url") }), el("dd", { class: "mono", text: view.url || "—" }),
    el("dt", { text: e("ep_source") }), el("dd", { text: sourceText(view) }),
    el("dt", { text: e("ep_has_secret") }),
    el("dd", { text: e(view.has_secret ? "secret_yes" : "secret_no") }));
  $("ep-inherit").classList.toggle("hidden", view.source !== "own");
}

async function load() {
  const code = $("ep-market").value;
  if (!code) return;
  view = null;
  try {
    view = await call(`/markets/${code}/registration-endpoint`);
  } catch (err) {
    say($("ep-msg"), () => errText(err), "bad");
  }
  paintEndpoint();
}

function fieldError(input, message) {
  for (const id of ["ep-url", "ep-secret"]) {
    $(`${id}-err`).textContent = "";
    $(id).removeAttribute("aria-invalid");
  }
  if (!input) return;
  $(`${input}-err`).textContent = message;
  $(input).setAttribute("aria-invalid", "true");
  $(input).focus();
}

async function save(ev) {
  ev.preventDefault();
  const code = $("ep-market").value;
  const url = $("ep-url").value.trim();
  const secret = $("ep-secret").value;
  if (!url) return fieldError("ep-url", e("ep_need_url"));
  if (!/^https?:\/\/\S+$/.test(url)) return fieldError("ep-url", e("ep_bad_url"));
  if (!secret) return fieldError("ep-secret", e("ep_need_secret"));
  try {
    view = await post(`/markets/${code}/registration-endpoint`, { url, secret },
      { method: "PUT" });
    fieldError(null);
    $("ep-url").value = "";
    $("ep-secret").value = "";
    say($("ep-msg"), () => e("ep_saved", { name: nameOf(code) }), "good");
  } catch (err) {
    const input = { url: "ep-url", secret: "ep-secret" }[err.field];
    if (err.status === 400 && input) fieldError(input, err.message);
    else say($("ep-msg"), () => errText(err), "bad");
  }
  paintEndpoint();
}

async function inherit() {
  const code = $("ep-market").value;
  try {
    view = await post(`/markets/${code}/registration-endpoint`, undefined,
      { method: "DELETE" });
    say($("ep-msg"), () => e("ep_removed", { name: nameOf(code), source: sourceText(view) }), "good");
  } catch (err) {
    say($("ep-msg"), () => errText(err), "bad");
  }
  paintEndpoint();
}

/** Show the section for ``scope`` (the markets the admin may manage) and read the first. */
export async function startEndpoint(scope) {
  markets = scope;
  $("ep-card").classList.remove("hidden");
  paintEndpoint();
  $("ep-market").addEventListener("change", () => {
    say($("ep-msg"), "", "");
    load();
  });
  $("ep-form").addEventListener("submit", save);
  $("ep-inherit").addEventListener("click", inherit);
  await load();
}

/** The market list changed (a child market was made): keep the choice, offer the new ones. */
export function endpointMarkets(scope) {
  markets = scope;
  paintEndpoint();
}
