import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap, unwrapResponse } from "@/api/client";
import { classify, readProblem } from "@/api/errors";
import { invalidateAfter, queryKeys } from "@/api/queryKeys";

export type MappingKind = "activity" | "customer" | "project" | "user";
export const MAPPING_KINDS: MappingKind[] = ["activity", "customer", "project", "user"];

export function useMappings() {
  return useQuery({ queryKey: queryKeys.mappings, queryFn: () => unwrap(api().http.GET("/api/mappings")) });
}

export type MappingsView = NonNullable<ReturnType<typeof useMappings>["data"]>;

export function useSetMapping() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ kind, zammad, kimai }: { kind: MappingKind; zammad: string; kimai: number }) =>
      unwrap(api().http.PUT("/api/mappings/{kind}/{zammad}", { params: { path: { kind, zammad } }, body: { kimai } })),
    onSuccess: () => invalidateAfter(client, "mappingsChanged"),
  });
}

export function useDeleteMapping() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ kind, zammad }: { kind: MappingKind; zammad: string }) =>
      unwrap(api().http.DELETE("/api/mappings/{kind}/{zammad}", { params: { path: { kind, zammad } } })),
    onSuccess: () => invalidateAfter(client, "mappingsChanged"),
  });
}

export interface ImportResult {
  rows: number;
}

/** Sends a CSV file as it is; a 400 carries one error per bad row (`row 3`, the header is row 1). */
export function useImportMappings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ kind, csv, mode }: { kind: MappingKind; csv: string; mode: "merge" | "replace" }): Promise<ImportResult> => {
      const response = await api().raw("POST", `/api/mappings/${kind}/import`, { query: { mode }, text: { body: csv, contentType: "text/csv" } });
      if (!response.ok) throw classify(response.status, await readProblem(response), true);
      const body = (await response.json()) as { rows?: number };
      return { rows: body.rows ?? 0 };
    },
    onSuccess: () => invalidateAfter(client, "mappingsChanged"),
  });
}

export async function exportMappings(kind: MappingKind): Promise<string> {
  const response = await unwrapResponse(await api().raw("GET", `/api/mappings/${kind}/export`, { accept: "text/csv" }), true);
  return response.text();
}

// ------------------------------------------------------------------ pickers (live lists)

export function useZammadPicker(kind: "types" | "organisations", enabled = true) {
  return useQuery({
    queryKey: queryKeys.picker("zammad", kind),
    queryFn: () => unwrap(api().http.GET(kind === "types" ? "/api/pickers/zammad/types" : "/api/pickers/zammad/organisations")),
    enabled,
    staleTime: 60_000,
  });
}

export type KimaiPickerKind = "activities" | "customers" | "projects" | "users";

export function useKimaiPicker(kind: KimaiPickerKind, enabled = true) {
  return useQuery({
    queryKey: queryKeys.picker("kimai", kind),
    queryFn: async () => {
      const items = await (kind === "activities"
        ? unwrap(api().http.GET("/api/pickers/kimai/activities"))
        : kind === "customers"
          ? unwrap(api().http.GET("/api/pickers/kimai/customers"))
          : kind === "projects"
            ? unwrap(api().http.GET("/api/pickers/kimai/projects"))
            : unwrap(api().http.GET("/api/pickers/kimai/users")));
      return items as { id: number; name: string; visible: boolean }[];
    },
    enabled,
    staleTime: 60_000,
  });
}

export const KIMAI_PICKER: Record<MappingKind, KimaiPickerKind> = { activity: "activities", customer: "customers", project: "projects", user: "users" };
