import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { invalidateAfter, queryKeys } from "@/api/queryKeys";
import { saveSession, type Role } from "@/api/session";

export function useMe() {
  return useQuery({ queryKey: queryKeys.me, queryFn: () => unwrap(api().http.GET("/api/auth/me")) });
}

export function useUsers(enabled: boolean) {
  return useQuery({ queryKey: queryKeys.users, queryFn: () => unwrap(api().http.GET("/api/users")), enabled });
}

export type UserView = NonNullable<ReturnType<typeof useUsers>["data"]>[number];

export function useCreateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { username: string; role: Role }) => unwrap(api().http.POST("/api/users", { body })),
    onSuccess: () => invalidateAfter(client, "usersChanged"),
  });
}

export function useChangeUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ username, change }: { username: string; change: { role?: Role; disabled?: boolean } }) =>
      unwrap(api().http.PATCH("/api/users/{username}", { params: { path: { username } }, body: change })),
    onSuccess: () => invalidateAfter(client, "usersChanged"),
  });
}

export function useResetPassword() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (username: string) => unwrap(api().http.POST("/api/users/{username}/reset-password", { params: { path: { username } } })),
    onSuccess: () => invalidateAfter(client, "usersChanged"),
  });
}

export function useRemoveUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (username: string) => unwrap(api().http.DELETE("/api/users/{username}", { params: { path: { username } } })),
    onSuccess: () => invalidateAfter(client, "usersChanged"),
  });
}

/** Changes the caller's own password; the answer is a fresh session (older tokens stop working). */
export function useChangeOwnPassword() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { current_password: string; new_password: string }) => unwrap(api().http.POST("/api/auth/password", { body })),
    onSuccess: (answer) => {
      saveSession({ token: answer.token, username: answer.username, role: answer.role as Role, expiresAt: answer.expires_at });
      return invalidateAfter(client, "passwordChanged");
    },
  });
}
