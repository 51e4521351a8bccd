import { describe, expect, it } from "vitest";
import { checkCron, DEFAULT_FORM, fromCron, fromEventBridge, toCron, type ScheduleForm } from "./cron";

const form = (patch: Partial<ScheduleForm>): ScheduleForm => ({ ...DEFAULT_FORM, ...patch });

describe("presets", () => {
  it("write the cron each preset stands for", () => {
    expect(toCron(form({ kind: "hourly", minute: 15 }))).toBe("15 * * * *");
    expect(toCron(form({ kind: "every6h", minute: 0 }))).toBe("0 */6 * * *");
    expect(toCron(form({ kind: "daily", hour: 6, minute: 30 }))).toBe("30 6 * * *");
    expect(toCron(form({ kind: "weekly", hour: 7, minute: 5, weekdays: [5, 1, 3] }))).toBe("5 7 * * 1,3,5");
    expect(toCron(form({ kind: "monthly", hour: 2, minute: 0, dayOfMonth: 1 }))).toBe("0 2 1 * *");
    expect(toCron(form({ kind: "custom", custom: "  0   8 * * 1-5 " }))).toBe("0 8 * * 1-5");
  });

  it("read back into the preset that wrote them", () => {
    for (const f of [
      form({ kind: "hourly", minute: 15 }),
      form({ kind: "every6h", minute: 10 }),
      form({ kind: "daily", hour: 6, minute: 30 }),
      form({ kind: "weekly", hour: 7, minute: 5, weekdays: [1, 3, 5] }),
      form({ kind: "monthly", hour: 2, minute: 0, dayOfMonth: 12 }),
    ]) {
      const back = fromCron(toCron(f));
      expect(back.kind).toBe(f.kind);
      expect(toCron(back)).toBe(toCron(f));
    }
  });

  it("treat anything else as custom, keeping the text", () => {
    expect(fromCron("0 8 * * 1-5")).toMatchObject({ kind: "custom", custom: "0 8 * * 1-5" });
    expect(fromCron("*/5 * * * *")).toMatchObject({ kind: "custom" });
  });
});

describe("EventBridge form", () => {
  it("becomes five fields with weekdays from 0", () => {
    expect(fromEventBridge("0 6 ? * 2,4,6 *")).toBe("0 6 * * 1,3,5");
    expect(fromEventBridge("30 7 ? * MON-FRI *")).toBe("30 7 * * 1-5");
    expect(fromEventBridge("0 2 1 * ? *")).toBe("0 2 1 * *");
    expect(fromEventBridge("0 9 ? * 2#1 *")).toBe("0 9 * * 1#1");
  });
  it("leaves five-field text alone", () => {
    expect(fromEventBridge("0 6 * * 1")).toBe("0 6 * * 1");
  });
});

describe("checkCron", () => {
  const from = new Date("2027-03-26T12:00:00Z");

  it("finds the next three runs in the zone, across the spring change", () => {
    const check = checkCron("30 6 * * 1,3", "Europe/Berlin", from);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    // 06:30 Berlin is 05:30Z before 28 March 2027 and 04:30Z after it.
    expect(check.nextRuns.map((d) => d.toISOString())).toEqual(["2027-03-29T04:30:00.000Z", "2027-03-31T04:30:00.000Z", "2027-04-05T04:30:00.000Z"]);
  });

  it("explains what is wrong", () => {
    expect(checkCron("", "UTC")).toEqual({ ok: false, message: "Enter a cron expression." });
    expect(checkCron("0 6 * *", "UTC")).toMatchObject({ ok: false, message: expect.stringContaining("5 fields") });
    expect(checkCron("61 * * * *", "UTC")).toMatchObject({ ok: false, message: expect.stringContaining("minute") });
    expect(checkCron("0 6 1 * 1", "UTC")).toMatchObject({ ok: false, message: expect.stringContaining("not both") });
    expect(checkCron("0 6 * * *", "Mars/Olympus")).toMatchObject({ ok: false });
  });
});
