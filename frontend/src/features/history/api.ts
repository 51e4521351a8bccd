import { useEffect, useRef } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap, unwrapResponse } from "@/api/client";
import { invalidateAfter, queryKeys } from "@/api/queryKeys";
import type { paths } from "@/api/schema";

/** The states and kinds the API filters by (enums in its document). */
export type RunState = NonNullable<NonNullable<paths["/api/sync-runs"]["get"]["parameters"]["query"]>["state"]>;
export type AuditKind = NonNullable<NonNullable<paths["/api/audit"]["get"]["parameters"]["query"]>["kind"]>;

export interface RunFilters {
  state?: RunState;
  from?: string;
  to?: string;
  limit?: number;
}

/** A run's counters (an open object in the document; these are the fields the store keeps). */
export interface RunCounters {
  tickets_queued: number;
  tickets_done: number;
  created: number;
  updated: number;
  deleted: number;
  conflicts: number;
  failed: number;
}

async function fetchRunsRaw(filters: RunFilters) {
  return unwrap(api().http.GET("/api/sync-runs", { params: { query: { ...filters, limit: filters.limit ?? 50 } } }));
}

type RawRun = Awaited<ReturnType<typeof fetchRunsRaw>>["items"][number];
export type SyncRun = Omit<RawRun, "counters"> & { counters: RunCounters };
export type RunsPage = { items: SyncRun[]; next?: string | null };

export async function fetchRuns(filters: RunFilters): Promise<RunsPage> {
  return (await fetchRunsRaw(filters)) as RunsPage;
}

/** Whether a run still moves: polled often until its progress is full. */
export function isMoving(run: SyncRun): boolean {
  return run.state === "running" && (run.progress === null || run.progress === undefined || run.progress < 1);
}

/** When a run seen moving stops (done, failed), the lists it changed are refetched. */
function useInvalidateWhenRunsStop(runs: SyncRun[] | undefined) {
  const client = useQueryClient();
  const moving = useRef<Set<string>>(new Set());
  useEffect(() => {
    if (!runs) return;
    const now = new Set(runs.filter(isMoving).map((r) => r.id));
    const stopped = [...moving.current].some((id) => !now.has(id));
    moving.current = now;
    if (stopped) void invalidateAfter(client, "runFinished");
  }, [runs, client]);
}

export function useRuns(filters: RunFilters, live = false) {
  const query = useQuery({
    queryKey: queryKeys.runs(filters),
    queryFn: () => fetchRuns(filters),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (live && q.state.data?.items.some(isMoving) ? 1500 : live ? 15000 : false),
  });
  useInvalidateWhenRunsStop(query.data?.items);
  return query;
}

export function useRun(id: string | null) {
  const query = useQuery({
    queryKey: queryKeys.run(id ?? ""),
    queryFn: async () => (await unwrap(api().http.GET("/api/sync-runs/{id}", { params: { path: { id: id! } } }))) as SyncRun,
    enabled: id !== null,
    refetchInterval: (q) => (q.state.data && isMoving(q.state.data) ? 1500 : false),
  });
  useInvalidateWhenRunsStop(query.data ? [query.data] : undefined);
  return query;
}

export interface AuditFilters {
  action?: string;
  actor?: string;
  ip?: string;
  from?: string;
  to?: string;
  kind?: AuditKind;
  limit?: number;
}

export function useAudit(filters: AuditFilters) {
  return useQuery({
    queryKey: queryKeys.audit(filters),
    queryFn: () => unwrap(api().http.GET("/api/audit", { params: { query: { ...filters, limit: filters.limit ?? 100 } } })),
    placeholderData: keepPreviousData,
  });
}

export type AuditPage = NonNullable<ReturnType<typeof useAudit>["data"]>;

/** Downloads a CSV the API makes (with the login), saved under `filename`. */
export async function downloadCsv(path: string, query: Record<string, string | number | undefined>, filename: string): Promise<void> {
  const response = await unwrapResponse(await api().raw("GET", path, { query, accept: "text/csv" }), true);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
