import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { invalidateAfter, queryKeys } from "@/api/queryKeys";

export function useZammadConnection() {
  return useQuery({ queryKey: queryKeys.connection("zammad"), queryFn: () => unwrap(api().http.GET("/api/connections/zammad")) });
}

export function useKimaiConnection() {
  return useQuery({ queryKey: queryKeys.connection("kimai"), queryFn: () => unwrap(api().http.GET("/api/connections/kimai")) });
}

export type ZammadInput = { base_url: string; time_unit: Record<string, unknown>; default_zone: string; discovery: string; token?: string };
export type KimaiInput = { base_url: string; token?: string };

export function useSaveZammad() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ZammadInput) => unwrap(api().http.PUT("/api/connections/zammad", { body: body as never })),
    onSuccess: () => invalidateAfter(client, "connectionSaved"),
  });
}

export function useSaveKimai() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: KimaiInput) => unwrap(api().http.PUT("/api/connections/kimai", { body })),
    onSuccess: () => invalidateAfter(client, "connectionSaved"),
  });
}

export function useTestZammad() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api().http.POST("/api/connections/zammad/test")),
    onSettled: () => invalidateAfter(client, "connectionTested"),
  });
}

export function useTestKimai() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api().http.POST("/api/connections/kimai/test")),
    onSettled: () => invalidateAfter(client, "connectionTested"),
  });
}
