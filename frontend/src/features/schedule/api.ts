import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { invalidateAfter, queryKeys } from "@/api/queryKeys";

export function useSchedule(enabled = true) {
  return useQuery({ queryKey: queryKeys.schedule, queryFn: () => unwrap(api().http.GET("/api/schedule")), enabled });
}

export type ScheduleView = NonNullable<ReturnType<typeof useSchedule>["data"]>;

export interface ScheduleInput {
  cron: string;
  time_zone: string;
  enabled: boolean;
  concurrency: "skip" | "queue";
}

export function useSaveSchedule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ScheduleInput) => unwrap(api().http.PUT("/api/schedule", { body: body as never })),
    onSuccess: (data) => {
      client.setQueryData(queryKeys.schedule, data);
      return invalidateAfter(client, "scheduleSaved");
    },
  });
}
