import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { invalidateAfter, queryKeys } from "@/api/queryKeys";
import type { components } from "@/api/schema";

/** A type that can be muted (an enum in the API's document). */
type MutableType = NonNullable<components["schemas"]["NotificationsInput"]["muted"]>[number];

export function useNotifications() {
  return useQuery({ queryKey: queryKeys.notifications, queryFn: () => unwrap(api().http.GET("/api/notifications")) });
}

export type NotificationsView = NonNullable<ReturnType<typeof useNotifications>["data"]>;
export interface NotificationsInput {
  backlog_threshold: number;
  muted: string[];
}

/** Saves the muted types and the threshold, conditional on the version read (`If-Match`). */
export function useSaveNotifications() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ version, input }: { version: number; input: NotificationsInput }) =>
      // The muted types are detail types the API listed in its view; it checks them again.
      unwrap(api().http.PUT("/api/notifications", { body: { ...input, muted: input.muted as MutableType[] }, headers: { "If-Match": String(version) } })),
    onSuccess: (view) => {
      client.setQueryData(queryKeys.notifications, view);
      return invalidateAfter(client, "notificationsSaved");
    },
  });
}

export function useSendTestEvent() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api().http.POST("/api/notifications/test")),
    onSuccess: () => invalidateAfter(client, "testEventSent"),
  });
}

/** One chat message the local stack's receiver got (infra/local-stack/chat_receiver.py). */
export interface ChatDelivery {
  received_at: string;
  text: string;
}

/** Where `vite preview` forwards to the local chat receiver; CloudFront has no such path. */
export const LOCAL_DELIVERIES = "/local-chat/deliveries";

/**
 * The chat payloads the local receiver got, newest first; `null` where there is no local
 * receiver (a deployed console: the messages are in the chat itself).
 */
export function parseDeliveries(raw: unknown): ChatDelivery[] | null {
  if (!Array.isArray(raw)) return null;
  return raw
    .map((d: { received_at?: unknown; json?: { text?: unknown } | null; body?: unknown }) => ({
      received_at: typeof d.received_at === "string" ? d.received_at : "",
      text: typeof d.json?.text === "string" ? d.json.text : typeof d.body === "string" ? d.body : "",
    }))
    .reverse();
}

async function fetchDeliveries(): Promise<ChatDelivery[] | null> {
  const answer = await fetch(LOCAL_DELIVERIES, { cache: "no-store" });
  if (!answer.ok || !(answer.headers.get("content-type") ?? "").includes("application/json")) return null;
  return parseDeliveries(await answer.json());
}

export function useLocalDeliveries() {
  return useQuery({ queryKey: queryKeys.localDeliveries, queryFn: fetchDeliveries, refetchInterval: 5_000, retry: false });
}
