import { describe, expect, it } from "vitest";
import { previewBooking, roundSeconds, zonedToInstant, type PreviewPolicies } from "./preview";

const policies: PreviewPolicies = { placement: "end_at_logged", rounding: { mode: "none", step_minutes: 0 }, default_activity: 5, unmapped_user: "conflict" };
const sample = { loggedAt: "2026-11-20T16:40", amount: 50, typeId: null, agentId: 2 };
const none = { activity: [], user: [] };

describe("previewBooking", () => {
  it("ends at the logged time by default", () => {
    expect(previewBooking(sample, policies, { unit: "minutes" }, "Europe/Berlin", none)).toEqual({
      booked: true,
      begin: "2026-11-20 15:50",
      end: "2026-11-20 16:40",
      durationMinutes: 50,
      activity: { id: 5, source: "default" },
      user: { id: null, source: "by_email" },
    });
  });

  it("begins at the logged time, rounds up, applies the unit and mappings", () => {
    const p = previewBooking(
      { ...sample, amount: 0.75, typeId: 3 },
      { ...policies, placement: "begin_at_logged", rounding: { mode: "up", step_minutes: 15 }, unmapped_user: "book_as_api_user" },
      { unit: "hours" },
      "Europe/Berlin",
      { activity: [{ zammad: "3", kimai: 12 }], user: [{ zammad: "2", kimai: 8 }] },
    );
    expect(p).toMatchObject({ booked: true, begin: "2026-11-20 16:40", end: "2026-11-20 17:25", durationMinutes: 45, activity: { id: 12, source: "mapping" }, user: { id: 8, source: "mapping" } });
  });

  it("says why nothing would be booked", () => {
    expect(previewBooking({ ...sample, amount: 4 }, { ...policies, rounding: { mode: "down", step_minutes: 15 } }, { unit: "minutes" }, "UTC", none)).toMatchObject({ booked: false, reason: expect.stringContaining("zero") });
    expect(previewBooking(sample, { ...policies, default_activity: null }, { unit: "minutes" }, "UTC", none)).toMatchObject({ booked: false, reason: expect.stringContaining("activity") });
    expect(previewBooking({ ...sample, amount: -1 }, policies, { unit: "minutes" }, "UTC", none)).toMatchObject({ booked: false });
    expect(previewBooking({ ...sample, loggedAt: "" }, policies, { unit: "minutes" }, "UTC", none)).toMatchObject({ booked: false });
  });

  it("keeps local wall time across the autumn change", () => {
    // 27 Oct 2024, Berlin: at 03:00 CEST the clock went back to 02:00 CET. 03:30 CET minus
    // 90 minutes of real time is 02:00 CET (a wall-clock subtraction would say 02:00 too, but
    // from the wrong hour); the placement works on instants, as the sync does.
    const p = previewBooking({ ...sample, loggedAt: "2024-10-27T03:30", amount: 90 }, policies, { unit: "minutes" }, "Europe/Berlin", none);
    expect(p).toMatchObject({ booked: true, begin: "2024-10-27 02:00", end: "2024-10-27 03:30" });
  });
});

describe("rounding", () => {
  it("rounds by mode and lifts to the minimum", () => {
    expect(roundSeconds(7 * 60, { mode: "up", step_minutes: 15 })).toBe(15 * 60);
    expect(roundSeconds(22 * 60, { mode: "down", step_minutes: 15 })).toBe(15 * 60);
    expect(roundSeconds(450, { mode: "nearest", step_minutes: 15 })).toBe(15 * 60);
    expect(roundSeconds(449, { mode: "nearest", step_minutes: 15 })).toBe(0);
    expect(roundSeconds(60, { mode: "none", step_minutes: 0, minimum_minutes: 10 })).toBe(600);
  });
  it("reads local wall times in a zone", () => {
    expect(new Date(zonedToInstant("2026-07-01T12:00", "Europe/Berlin")).toISOString()).toBe("2026-07-01T10:00:00.000Z");
    expect(Number.isNaN(zonedToInstant("nope", "UTC"))).toBe(true);
  });
});
