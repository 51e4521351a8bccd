import { useMutation, useQuery, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { invalidateAfter, queryKeys } from "@/api/queryKeys";
import { approveEntries, fetchAwaitingApproval, fetchDeadLetters, replayDeadLetter, type DeadLetter } from "@/api/operations";
import type { DesiredSide, KimaiSide } from "./diff";
import type { ResolveAction } from "./actions";

/** A conflict record as the API lists it (its schema is an open object in the document). */
export interface ConflictRecord {
  id: string;
  status: "open" | "resolved";
  opened_at: string;
  conflict: {
    key: string;
    ticket_id: number;
    reason: string;
    detail: string;
    desired?: (DesiredSide & { agent_id: number; day: string }) | null;
    base?: { kimai_id: number } | null;
    kimai?: KimaiSide | null;
    candidates: number[];
    /** Whose time and which ticket, in Zammad's words (absent on older conflicts and Kimai's refusals). */
    subject?: ConflictSubject | null;
  };
  resolution?: { action: unknown; actor: string; note?: string | null; resolved_at: string } | null;
}

export interface ConflictSubject {
  ticket_number: string;
  ticket_title: string;
  agent_id: number;
  agent_name: string;
  agent_email?: string | null;
  type_id?: number | null;
  type_name?: string | null;
  organisation_id?: number | null;
  organisation_name?: string | null;
  group_id?: number | null;
}

export interface ConflictFilters {
  status: "open" | "resolved";
  reason?: string;
  ticket?: number;
}

export function useConflicts(filters: ConflictFilters) {
  return useQuery({
    queryKey: queryKeys.conflicts(filters),
    queryFn: async () => {
      const page = await unwrap(api().http.GET("/api/conflicts", { params: { query: { ...filters, limit: 500 } as never } }));
      return { items: page.items as unknown as ConflictRecord[], next: page.next ?? null };
    },
  });
}

type ConflictList = { items: ConflictRecord[]; next: string | null };

/**
 * Removes the conflicts from every cached open list at once (optimistic), and puts them back
 * if the API refuses: the table never shows a decision that did not happen.
 */
function useOptimisticResolve<T, R>(ids: (input: T) => string[], call: (input: T) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: call,
    onMutate: async (input: T) => {
      await client.cancelQueries({ queryKey: queryKeys.conflictsAll });
      const gone = new Set(ids(input));
      const snapshot = client.getQueriesData<ConflictList>({ queryKey: queryKeys.conflictsAll });
      client.setQueriesData<ConflictList>({ queryKey: queryKeys.conflictsAll }, (list) =>
        list && Array.isArray(list.items) ? { ...list, items: list.items.filter((c) => !gone.has(c.id)) } : list,
      );
      return { snapshot };
    },
    onError: (_error, _input, context) => {
      context?.snapshot.forEach(([key, data]: [QueryKey, ConflictList | undefined]) => client.setQueryData(key, data));
    },
    onSettled: () => invalidateAfter(client, "conflictsResolved"),
  });
}

export function useResolveOne() {
  return useOptimisticResolve(
    (i: { id: string; action: ResolveAction; kimaiId?: number }) => [i.id],
    (i) =>
      unwrap(
        api().http.POST("/api/conflicts/{id}/resolve", {
          params: { path: { id: i.id } },
          body: { action: i.action, ...(i.kimaiId !== undefined ? { kimai_id: i.kimaiId } : {}) } as never,
        }),
      ),
  );
}

export interface BulkOutcome {
  resolved: number;
  items: { id: string; outcome: string; detail?: string | null }[];
}

export function useResolveMany() {
  return useOptimisticResolve(
    (i: { ids: string[]; action: ResolveAction }) => i.ids,
    async (i) => (await unwrap(api().http.POST("/api/conflicts/resolve", { body: { action: i.action, ids: i.ids } as never }))) as unknown as BulkOutcome,
  );
}

export function useAwaitingApproval(enabled: boolean) {
  return useQuery({ queryKey: queryKeys.approvals({}), queryFn: fetchAwaitingApproval, enabled });
}

export function useApprove() {
  const client = useQueryClient();
  return useMutation({ mutationFn: approveEntries, onSettled: () => invalidateAfter(client, "entriesApproved") });
}

export function useDeadLetters(enabled: boolean) {
  return useQuery({ queryKey: queryKeys.deadLetters, queryFn: fetchDeadLetters, enabled });
}

export function useReplay() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ queue, messageId }: { queue: DeadLetter["queue"]; messageId: string }) => {
      const result = await replayDeadLetter(queue, messageId);
      if (!result.replayed) throw new Error(result.error || "the message was not replayed");
      return result;
    },
    onSettled: () => invalidateAfter(client, "deadLettersReplayed"),
  });
}
