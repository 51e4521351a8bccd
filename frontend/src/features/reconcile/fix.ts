import type { MappingKind } from "@/features/mappings/api";
import type { ConflictRecord } from "./api";

/** A mapping that fixes a conflict: which kind, the Zammad side's key, and how to say it. */
export interface MappingFix {
  kind: MappingKind;
  zammad: string;
  /** "Anna Agent", "time type Remote", "organisation Acme", "group 3". */
  what: string;
}

/** The mapping an `unmapped_*` conflict asks for, when its subject names the Zammad side. */
export function mappingFix(c: ConflictRecord): MappingFix | null {
  const s = c.conflict.subject;
  if (!s) return null;
  switch (c.conflict.reason) {
    case "unmapped_user":
      return { kind: "user", zammad: String(s.agent_id), what: s.agent_email ? `${s.agent_name} <${s.agent_email}>` : s.agent_name };
    case "unmapped_activity":
      return s.type_id != null ? { kind: "activity", zammad: String(s.type_id), what: `time type ${s.type_name ?? s.type_id}` } : { kind: "activity", zammad: "none", what: "time without a type" };
    case "unmapped_customer":
      return s.organisation_id != null ? { kind: "customer", zammad: String(s.organisation_id), what: `organisation ${s.organisation_name ?? s.organisation_id}` } : null;
    case "unmapped_project":
      return s.group_id != null ? { kind: "project", zammad: String(s.group_id), what: `group ${s.group_id}` } : null;
    default:
      return null;
  }
}

/** The open conflicts the same mapping fixes, and their tickets (each once). */
export function fixedBy(fix: MappingFix, reason: string, open: ConflictRecord[]): { conflicts: ConflictRecord[]; tickets: number[] } {
  const conflicts = open.filter((c) => {
    if (c.conflict.reason !== reason) return false;
    const other = mappingFix(c);
    return other !== null && other.kind === fix.kind && other.zammad === fix.zammad;
  });
  const tickets = [...new Set(conflicts.map((c) => c.conflict.ticket_id))].sort((a, b) => a - b);
  return { conflicts, tickets };
}
