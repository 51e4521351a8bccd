import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { invalidateAfter } from "@/api/queryKeys";

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
