import { describe, expect, it } from "vitest";
import type { ConflictRecord } from "./api";
import { fixedBy, mappingFix } from "./fix";

const conflict = (id: string, ticket: number, reason: string, agent: number, type: number | null = null): ConflictRecord => ({
  id,
  status: "open",
  opened_at: "2026-12-01T10:00:00Z",
  conflict: {
    key: `ta:${id}`,
    ticket_id: ticket,
    reason,
    detail: "",
    candidates: [],
    subject: { ticket_number: `3100${ticket}`, ticket_title: "Printer", agent_id: agent, agent_name: `Agent ${agent}`, agent_email: `a${agent}@example.com`, type_id: type, type_name: type ? "Remote" : null },
  },
});

describe("fix in place", () => {
  it("maps an unmapped agent by id and names them by e-mail", () => {
    expect(mappingFix(conflict("a", 1, "unmapped_user", 3))).toEqual({ kind: "user", zammad: "3", what: "Agent 3 <a3@example.com>" });
    expect(mappingFix(conflict("b", 1, "unmapped_activity", 3, 9))).toEqual({ kind: "activity", zammad: "9", what: "time type Remote" });
    expect(mappingFix(conflict("c", 1, "both_changed", 3))).toBeNull();
  });

  it("finds every open conflict the same mapping fixes, and their tickets once each", () => {
    const open = [conflict("a", 2, "unmapped_user", 3), conflict("b", 1, "unmapped_user", 3), conflict("c", 2, "unmapped_user", 3), conflict("d", 4, "unmapped_user", 5), conflict("e", 5, "unmapped_activity", 3, 9)];
    const fix = mappingFix(open[0])!;
    const { conflicts, tickets } = fixedBy(fix, "unmapped_user", open);
    expect(conflicts.map((c) => c.id)).toEqual(["a", "b", "c"]);
    expect(tickets).toEqual([1, 2]);
  });
});
