import { useQuery } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { ApiError } from "@/api/errors";
import { queryKeys } from "@/api/queryKeys";
import { fetchHealthDetails, fetchKpis } from "@/api/operations";

/** The dashboard's numbers (always the last 30 days; the chart shows 7 or 30 of them). */
export function useKpis() {
  return useQuery({ queryKey: queryKeys.kpisAll, queryFn: fetchKpis, refetchInterval: 30_000 });
}

/** The store's health: 200 ok, 503 degraded (an answer, not a failure). */
export function useStoreHealth() {
  return useQuery({
    queryKey: queryKeys.health,
    queryFn: async () => {
      try {
        const h = await unwrap(api().http.GET("/api/health"));
        return { status: h.status === "ok" ? "ok" : "degraded" } as const;
      } catch (e) {
        if (e instanceof ApiError && e.kind === "unavailable") return { status: "degraded" } as const;
        throw e;
      }
    },
    refetchInterval: 30_000,
  });
}

/** Store, Zammad and Kimai probed by the API (each call reaches out: polled once a minute). */
export function useHealthDetails() {
  return useQuery({ queryKey: queryKeys.upstreamHealth, queryFn: fetchHealthDetails, refetchInterval: 60_000 });
}

/** Open conflicts counted from the list (up to 500) while the KPIs route is missing. */
export function useOpenConflictCount(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.conflicts({ status: "open", count: true }),
    queryFn: async () => {
      const page = await unwrap(api().http.GET("/api/conflicts", { params: { query: { status: "open", limit: 500 } } }));
      return { count: page.items.length, more: Boolean(page.next) };
    },
    enabled,
  });
}
