import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { invalidateAfter } from "@/api/queryKeys";
import type { RunCounters } from "@/features/history/api";

export type SyncRequest = { tickets: number[]; dry_run: boolean } | { from: string; to: string; dry_run: boolean };

export function useStartRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: SyncRequest) => unwrap(api().http.POST("/api/sync-runs", { body: body as never })),
    onSuccess: () => invalidateAfter(client, "runStarted"),
  });
}

/** `12, 40 41` → [12, 40, 41]; null when something is not a positive whole number. */
export function parseTickets(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p) || Number(p) === 0)) return null;
  return [...new Set(parts.map(Number))];
}

/** The run's counters with `adopted`, which runs recorded before that counter lack. */
export function withAdopted(c: RunCounters): RunCounters & { adopted: number } {
  const adopted = (c as RunCounters & { adopted?: number }).adopted;
  return { ...c, adopted: adopted ?? 0 };
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a finished dry run would have done, in one sentence. */
export function planSummary(c: RunCounters & { adopted: number }): string {
  const writes = [
    c.created > 0 && `create ${count(c.created, "timesheet", "timesheets")}`,
    c.updated > 0 && `update ${c.updated}`,
    c.deleted > 0 && `delete ${c.deleted}`,
    c.adopted > 0 && `adopt ${count(c.adopted, "existing timesheet", "existing timesheets")}`,
  ].filter((p): p is string => Boolean(p));
  const tickets = count(c.tickets_done, "ticket", "tickets");
  const plan = writes.length === 0 ? `The sync would change nothing in Kimai for ${tickets}` : `The sync would ${writes.join(", ")} in Kimai for ${tickets}`;
  const conflicts = c.conflicts > 0 ? `, and open ${count(c.conflicts, "conflict", "conflicts")} for review` : "";
  const failed = c.failed > 0 ? ` ${count(c.failed, "ticket", "tickets")} could not be planned.` : "";
  return `${plan}${conflicts}.${failed}`;
}
