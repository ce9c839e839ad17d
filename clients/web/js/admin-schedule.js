// The schedule of a timed session (docs/formats.md "Scheduling"), shared by 新建场次 and 编辑场次:
// the session end (ends_at: the first lot's close; blank: the lots are opened by hand), the gap
// between closes, the cap on each lot's extensions (blank: none) and the hard end (blank: none).
// The fieldset #schedule is shown for timed sessions only.
import { fieldError } from "./account.js";
import { $, a, cstToRfc } from "./admin.js";

/** body field → input id (a 400 naming the field is shown under it) */
export const SCHEDULE_IDS = { ends_at: "ends-at", close_gap_s: "close-gap",
  max_extensions: "max-ext", hard_end_at: "hard-end" };

/** RFC 3339 → the datetime-local value in China Standard Time. */
export function toCst(value) {
  if (!value) return "";
  const d = new Date(new Date(value).getTime() + 8 * 3600 * 1000);
  return d.toISOString().slice(0, 16);
}

export function showSchedule(mode) {
  $("schedule").classList.toggle("hidden", mode !== "timed");
}

export function fillSchedule(session) {
  $("ends-at").value = toCst(session.ends_at);
  $("close-gap").value = String(session.close_gap_s ?? 0);
  $("max-ext").value = session.max_extensions == null ? "" : String(session.max_extensions);
  $("hard-end").value = toCst(session.hard_end_at);
}

/** The schedule's body fields (``null`` for a blank one), or null when one is not valid (its
 * error shown under it). A live session sends none. */
export function readSchedule(mode) {
  if (mode !== "timed") return {};
  let bad = false;
  const whole = (id, max) => {
    const v = $(id).value.trim();
    if (v === "") return null;
    if (!/^\d+$/.test(v) || Number(v) > max) { fieldError(id, a("f_int")); bad = true; return null; }
    return Number(v);
  };
  const body = {
    ends_at: $("ends-at").value ? cstToRfc($("ends-at").value) : null,
    close_gap_s: whole("close-gap", 86400) ?? 0,
    max_extensions: whole("max-ext", 1000),
    hard_end_at: $("hard-end").value ? cstToRfc($("hard-end").value) : null,
  };
  return bad ? null : body;
}
