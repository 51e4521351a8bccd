import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { invalidateAfter, queryKeys } from "@/api/queryKeys";

export function usePolicies() {
  return useQuery({ queryKey: queryKeys.policies, queryFn: () => unwrap(api().http.GET("/api/policies")) });
}

export type PoliciesView = NonNullable<ReturnType<typeof usePolicies>["data"]>;
export type PoliciesInput = Omit<PoliciesView, "version">;

/** Saves all policy fields, conditional on the version read (`If-Match`): a stale form gets a 409. */
export function useSavePolicies() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ version, policies }: { version: number; policies: PoliciesInput }) =>
      unwrap(api().http.PUT("/api/policies", { body: policies as never, headers: { "If-Match": String(version) } })),
    // The answer is the saved view with its new version: the next save is conditional on it
    // at once, not only after a refetch.
    onSuccess: (view) => {
      client.setQueryData(queryKeys.policies, view);
      return invalidateAfter(client, "policiesSaved");
    },
  });
}
