import { api } from "@/api/instance";
import { unwrap } from "@/api/client";
import { saveSession, type Role, type Session } from "@/api/session";

export async function login(username: string, password: string): Promise<Session> {
  const answer = await unwrap(api().http.POST("/api/auth/login", { body: { username, password } }));
  const session: Session = { token: answer.token, username: answer.username, role: answer.role as Role, expiresAt: answer.expires_at };
  saveSession(session);
  return session;
}
