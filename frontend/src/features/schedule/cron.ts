/**
 * Schedule presets and the cron text they stand for, in the common five-field form the API
 * accepts (`minute hour day-of-month month day-of-week`, weekdays 0-6 from Sunday). The API
 * answers with EventBridge's six fields; `fromEventBridge` turns that back for editing.
 */
import { Cron } from "croner";

export type PresetKind = "hourly" | "every6h" | "daily" | "weekly" | "monthly" | "custom";

export interface ScheduleForm {
  kind: PresetKind;
  minute: number;
  hour: number;
  /** 0 = Sunday … 6 = Saturday, for `weekly`. */
  weekdays: number[];
  dayOfMonth: number;
  custom: string;
}

export const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

export const PRESET_LABELS: Record<PresetKind, string> = {
  hourly: "Hourly",
  every6h: "Every 6 hours",
  daily: "Daily",
  weekly: "Weekly",
  monthly: "Monthly",
  custom: "Custom cron",
};

export const DEFAULT_FORM: ScheduleForm = { kind: "hourly", minute: 0, hour: 6, weekdays: [1, 2, 3, 4, 5], dayOfMonth: 1, custom: "" };

/** The cron text of a form (the custom text as typed, trimmed). */
export function toCron(form: ScheduleForm): string {
  const m = form.minute;
  const h = form.hour;
  switch (form.kind) {
    case "hourly":
      return `${m} * * * *`;
    case "every6h":
      return `${m} */6 * * *`;
    case "daily":
      return `${m} ${h} * * *`;
    case "weekly":
      return `${m} ${h} * * ${[...form.weekdays].sort((a, b) => a - b).join(",")}`;
    case "monthly":
      return `${m} ${h} ${form.dayOfMonth} * *`;
    case "custom":
      return form.custom.trim().replace(/\s+/g, " ");
  }
}

const NUMBER = /^\d+$/;

/** Reads a five-field cron back into the preset that writes it, else a custom form. */
export function fromCron(cron: string): ScheduleForm {
  const text = cron.trim().replace(/\s+/g, " ");
  const custom: ScheduleForm = { ...DEFAULT_FORM, kind: "custom", custom: text };
  const f = text.split(" ");
  if (f.length !== 5 || !NUMBER.test(f[0]) || f[3] !== "*") return custom;
  const minute = Number(f[0]);
  const base = { ...DEFAULT_FORM, minute, custom: text };
  if (f[1] === "*" && f[2] === "*" && f[4] === "*") return { ...base, kind: "hourly" };
  if (f[1] === "*/6" && f[2] === "*" && f[4] === "*") return { ...base, kind: "every6h" };
  if (!NUMBER.test(f[1])) return custom;
  const hour = Number(f[1]);
  if (f[2] === "*" && f[4] === "*") return { ...base, hour, kind: "daily" };
  if (f[2] === "*" && /^[0-6](,[0-6])*$/.test(f[4])) {
    return { ...base, hour, kind: "weekly", weekdays: [...new Set(f[4].split(",").map(Number))].sort((a, b) => a - b) };
  }
  if (NUMBER.test(f[2]) && f[4] === "*") return { ...base, hour, kind: "monthly", dayOfMonth: Number(f[2]) };
  return custom;
}

const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/**
 * EventBridge's `min hour dom month dow year` (weekdays 1-7 from Sunday, `?` for the free day
 * field) as the five-field form. Other text is returned unchanged.
 */
export function fromEventBridge(cron: string): string {
  const f = cron.trim().split(/\s+/);
  if (f.length !== 6) return cron.trim();
  const free = (s: string) => (s === "?" ? "*" : s);
  // Weekday 1-7 (or a name) becomes 0-6; a count after `/` or `#` stays as it is.
  const dow = free(f[4]).replace(/([/#]?)([A-Za-z]{3}|\d+)/g, (_, prefix: string, token: string) => {
    if (prefix) return prefix + token;
    const day = /\d/.test(token) ? Number(token) - 1 : DAY_NAMES.indexOf(token.toUpperCase());
    return day < 0 ? token : String(day);
  });
  return [f[0], f[1], free(f[2]), f[3], dow].join(" ");
}

export type CronCheck = { ok: true; nextRuns: Date[] } | { ok: false; message: string };

/** Checks a five-field cron as the API will, and finds its next runs in `zone` after `from`. */
export function checkCron(cron: string, zone: string, from: Date = new Date(), count = 3): CronCheck {
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length === 0) return { ok: false, message: "Enter a cron expression." };
  if (fields.length !== 5) return { ok: false, message: `Cron needs 5 fields (minute hour day month weekday), got ${fields.length}.` };
  if (fields[2] !== "*" && fields[2] !== "?" && fields[4] !== "*" && fields[4] !== "?") {
    return { ok: false, message: "Give a day of the month or days of the week, not both." };
  }
  try {
    const job = new Cron(fields.join(" "), { timezone: zone, paused: true });
    const nextRuns = job.nextRuns(count, from);
    if (nextRuns.length === 0) return { ok: false, message: "This expression never runs." };
    return { ok: true, nextRuns };
  } catch (e) {
    const text = e instanceof Error ? e.message.replace(/^CronPattern: /, "") : String(e);
    return { ok: false, message: text.includes("timezone") || text.includes("time zone") ? "Unknown time zone." : `Not a valid cron expression: ${text}` };
  }
}
