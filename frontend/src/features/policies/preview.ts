/**
 * How one sample Zammad accounting would be booked under the policies being edited: the same
 * steps the sync takes for a single accounting (unit → rounding → placement → mapping), so the
 * form can show begin, end, duration, activity and user before anything is saved. The sync's own
 * code (in Rust) stays the authority; this mirrors its documented rules for one entry.
 */

export type TimeUnit =
  | { unit: "minutes" }
  | { unit: "hours" }
  | { unit: "quarter_hours" }
  | { unit: "minutes_per_unit"; minutes: string | number };

export interface RoundingPolicy {
  mode: "none" | "up" | "down" | "nearest";
  step_minutes: number;
  minimum_minutes?: number | null;
}

export interface PreviewPolicies {
  placement: "end_at_logged" | "begin_at_logged";
  rounding: RoundingPolicy;
  default_activity?: number | null;
  unmapped_user: "conflict" | "book_as_api_user";
}

export interface Pair {
  zammad: string;
  kimai: number;
}

export interface SampleAccounting {
  /** Local wall time the agent logged it, `YYYY-MM-DDTHH:MM`, in `zone`. */
  loggedAt: string;
  amount: number;
  /** Zammad accounting type id, or null for time without a type. */
  typeId: number | null;
  /** Zammad agent id. */
  agentId: number;
}

export type Preview =
  | {
      booked: true;
      begin: string;
      end: string;
      durationMinutes: number;
      activity: { id: number; source: "mapping" | "default" } | { id: null; source: "none" };
      user: { id: number; source: "mapping" } | { id: null; source: "by_email" | "api_user" };
    }
  | { booked: false; reason: string };

export function minutesPerUnit(unit: TimeUnit): number {
  switch (unit.unit) {
    case "minutes":
      return 1;
    case "hours":
      return 60;
    case "quarter_hours":
      return 15;
    case "minutes_per_unit":
      return Number(unit.minutes);
  }
}

/** Rounds seconds by the policy: `nearest` rounds half a step up; the minimum lifts any positive result. */
export function roundSeconds(seconds: number, rounding: RoundingPolicy): number {
  let result = seconds;
  const step = rounding.step_minutes * 60;
  if (rounding.mode !== "none" && step > 0) {
    const steps = seconds / step;
    const whole = rounding.mode === "up" ? Math.ceil(steps) : rounding.mode === "down" ? Math.floor(steps) : Math.floor(steps + 0.5);
    result = whole * step;
  }
  const minimum = (rounding.minimum_minutes ?? 0) * 60;
  if (result > 0 && result < minimum) result = minimum;
  return result;
}

/** Offset of `zone` from UTC at `instant`, in minutes. */
function offsetMinutes(zone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - instant) / 60000);
}

/** The UTC instant of a local wall time in `zone` (the earlier one when the hour repeats). */
export function zonedToInstant(local: string, zone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return Number.NaN;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let guess = wall - offsetMinutes(zone, wall) * 60000;
  guess = wall - offsetMinutes(zone, guess) * 60000;
  return guess;
}

/** `YYYY-MM-DD HH:MM` as `instant` reads in `zone`. */
export function localText(instant: number, zone: string): string {
  const shifted = new Date(instant + offsetMinutes(zone, instant) * 60000);
  return shifted.toISOString().slice(0, 16).replace("T", " ");
}

export function previewBooking(
  sample: SampleAccounting,
  policies: PreviewPolicies,
  unit: TimeUnit,
  zone: string,
  mappings: { activity: Pair[]; user: Pair[] },
): Preview {
  const logged = zonedToInstant(sample.loggedAt, zone);
  if (Number.isNaN(logged)) return { booked: false, reason: "Enter when the time was logged." };
  if (!(sample.amount > 0)) return { booked: false, reason: "Enter a positive amount." };
  const perUnit = minutesPerUnit(unit);
  if (!(perUnit > 0)) return { booked: false, reason: "The Zammad connection's time unit is not valid." };
  const seconds = roundSeconds(Math.round(sample.amount * perUnit * 60), policies.rounding);
  if (seconds <= 0) return { booked: false, reason: "Rounded to zero: no timesheet is written." };
  const [begin, end] = policies.placement === "end_at_logged" ? [logged - seconds * 1000, logged] : [logged, logged + seconds * 1000];

  const typeKey = sample.typeId === null ? "none" : String(sample.typeId);
  const mappedActivity = mappings.activity.find((p) => p.zammad === typeKey);
  const activity: Extract<Preview, { booked: true }>["activity"] = mappedActivity
    ? { id: mappedActivity.kimai, source: "mapping" }
    : policies.default_activity
      ? { id: policies.default_activity, source: "default" }
      : { id: null, source: "none" };
  if (activity.source === "none") return { booked: false, reason: "No activity: map this type or set a default activity (conflict: unmapped activity)." };

  const mappedUser = mappings.user.find((p) => p.zammad === String(sample.agentId));
  const user: Extract<Preview, { booked: true }>["user"] = mappedUser
    ? { id: mappedUser.kimai, source: "mapping" }
    : { id: null, source: policies.unmapped_user === "book_as_api_user" ? "api_user" : "by_email" };

  return { booked: true, begin: localText(begin, zone), end: localText(end, zone), durationMinutes: seconds / 60, activity, user };
}
