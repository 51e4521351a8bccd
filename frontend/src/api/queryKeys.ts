/**
 * Every query key of the console, and which keys a change makes stale. Screens import keys and
 * invalidation rules from here only, so a new change cannot forget a list it affects.
 * Every change the API accepts writes an audit event, hence `audit` in each rule.
 */
import type { QueryClient, QueryKey } from "@tanstack/react-query";

export const queryKeys = {
  me: ["auth", "me"] as const,
  health: ["health", "store"] as const,
  upstreamHealth: ["health", "upstream"] as const,
  kpisAll: ["kpis"] as const,
  connection: (kind: "zammad" | "kimai") => ["connections", kind] as const,
  connections: ["connections"] as const,
  picker: (source: "zammad" | "kimai", kind: string, params: Record<string, string | undefined> = {}) =>
    ["pickers", source, kind, params] as const,
  pickers: ["pickers"] as const,
  mappings: ["mappings"] as const,
  policies: ["policies"] as const,
  runs: (filters: object) => ["runs", "list", filters] as const,
  runsAll: ["runs"] as const,
  run: (id: string) => ["runs", "detail", id] as const,
  schedule: ["schedule"] as const,
  notifications: ["notifications"] as const,
  users: ["users"] as const,
  localDeliveries: ["notifications", "local-deliveries"] as const,
  conflicts: (filters: object) => ["conflicts", filters] as const,
  conflictsAll: ["conflicts"] as const,
  ticketEntries: (ticket: number) => ["entries", "ticket", ticket] as const,
  entriesAll: ["entries"] as const,
  approvals: (filters: object) => ["approvals", filters] as const,
  approvalsAll: ["approvals"] as const,
  deadLetters: ["dead-letters"] as const,
  audit: (filters: object) => ["audit", filters] as const,
  auditAll: ["audit"] as const,
};

const rules = {
  connectionSaved: [queryKeys.connections, queryKeys.pickers, queryKeys.upstreamHealth, queryKeys.auditAll],
  connectionTested: [queryKeys.upstreamHealth, queryKeys.auditAll],
  // Mappings and policies are one document with one version: a change to either makes the
  // other's version stale (its next save would be a 409).
  mappingsChanged: [queryKeys.mappings, queryKeys.policies, queryKeys.conflictsAll, queryKeys.auditAll],
  policiesSaved: [queryKeys.policies, queryKeys.mappings, queryKeys.auditAll],
  runStarted: [queryKeys.runsAll, queryKeys.kpisAll, queryKeys.auditAll],
  // A run that stopped moving has opened conflicts, booked minutes, held entries back.
  runFinished: [queryKeys.conflictsAll, queryKeys.entriesAll, queryKeys.kpisAll, queryKeys.approvalsAll, queryKeys.deadLetters, queryKeys.upstreamHealth],
  scheduleSaved: [queryKeys.schedule, queryKeys.auditAll],
  notificationsSaved: [queryKeys.notifications, queryKeys.auditAll],
  usersChanged: [queryKeys.users, queryKeys.auditAll],
  passwordChanged: [queryKeys.me, queryKeys.users, queryKeys.auditAll],
  // The chat receives the test event a moment later (the next poll shows it).
  testEventSent: [queryKeys.localDeliveries, queryKeys.auditAll],
  conflictsResolved: [queryKeys.conflictsAll, queryKeys.kpisAll, queryKeys.auditAll],
  entriesApproved: [queryKeys.approvalsAll, queryKeys.entriesAll, queryKeys.kpisAll, queryKeys.auditAll],
  deadLettersReplayed: [queryKeys.deadLetters, queryKeys.runsAll, queryKeys.auditAll],
} satisfies Record<string, readonly QueryKey[]>;

export type Change = keyof typeof rules;

/** Marks every query a change affects as stale (active ones refetch). */
export function invalidateAfter(client: QueryClient, change: Change): Promise<void> {
  return Promise.all(rules[change].map((queryKey) => client.invalidateQueries({ queryKey }))).then(() => undefined);
}
