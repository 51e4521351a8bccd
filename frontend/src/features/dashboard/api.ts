import { useQuery } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { ApiError } from "@/api/errors";
import { queryKeys } from "@/api/queryKeys";
import { fetchKpis, fetchUpstreamHealth } from "@/api/pending";

export function useKpis(days: number) {
  return useQuery({ queryKey: queryKeys.kpis(days), queryFn: () => fetchKpis(days), refetchInterval: 30_000 });
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

export function useUpstreamHealth(name: "zammad" | "kimai") {
  return useQuery({ queryKey: [...queryKeys.upstreamHealth, name], queryFn: () => fetchUpstreamHealth(name), refetchInterval: 60_000 });
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
