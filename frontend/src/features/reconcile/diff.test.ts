import { describe, expect, it } from "vitest";
import { diffTimesheets, formatDuration, wallClock, type DesiredSide, type KimaiSide } from "./diff";
import { actionsFor, bulkActionsFor } from "./actions";

const desired: DesiredSide = {
  begin: "2026-11-20T09:00:00",
  end: "2026-11-20T09:30:00",
  duration_secs: 1800,
  activity: 3,
  project: 7,
  user: 2,
  description: "[zammad:ta=1] Printer",
  tags: ["b", "a"],
};
const kimai: KimaiSide = { id: 99, begin: "2026-11-20T09:00:00+01:00", end: "2026-11-20T09:45:00+01:00", duration_secs: 2700, activity: 3, project: 7, user: 2, description: "[zammad:ta=1] Printer", tags: ["a", "b"] };

describe("diffTimesheets", () => {
  it("marks exactly the fields that differ, comparing local wall times", () => {
    const rows = diffTimesheets(desired, kimai);
    const differing = rows.filter((r) => r.differs).map((r) => r.field);
    expect(differing).toEqual(["end", "duration"]);
    expect(rows.find((r) => r.field === "begin")).toMatchObject({ zammad: "2026-11-20 09:00", kimai: "2026-11-20 09:00", differs: false });
    expect(rows.find((r) => r.field === "duration")).toMatchObject({ zammad: "0:30 h", kimai: "0:45 h" });
  });

  it("marks every field when Kimai's side is gone", () => {
    expect(diffTimesheets(desired, null).every((r) => r.differs)).toBe(true);
  });

  it("formats times and durations", () => {
    expect(wallClock("2026-11-20T23:59:00-05:00")).toBe("2026-11-20 23:59");
    expect(wallClock(null)).toBe("");
    expect(formatDuration(5400)).toBe("1:30 h");
    expect(formatDuration(-900)).toBe("−0:15 h");
  });
});

describe("actions", () => {
  it("fit the reason, ignore always", () => {
    expect(actionsFor("deleted_in_kimai")).toEqual(["recreate", "accept_deletion", "ignore"]);
    expect(actionsFor("unmapped_user")).toEqual(["ignore"]);
  });
  it("in bulk: only those fitting every selected reason, never link", () => {
    expect(bulkActionsFor(["both_changed", "orphaned"])).toEqual(["keep_kimai", "apply_zammad", "ignore"]);
    expect(bulkActionsFor(["both_changed", "deleted_in_kimai"])).toEqual(["ignore"]);
    expect(bulkActionsFor(["probable_duplicate"])).toEqual(["create_anyway", "ignore"]);
    expect(bulkActionsFor([])).toEqual([]);
  });
});
