import { useEffect, useState } from "react";
import { onSessionChange, readSession, type Session } from "@/api/session";

/** The current login, updated when it is saved or cleared (logout, or a 401 anywhere). */
export function useSession(): Session | null {
  const [session, setSession] = useState<Session | null>(() => readSession());
  useEffect(() => onSessionChange(setSession), []);
  return session;
}

/** Viewers get a read-only console: every change control is disabled and says why. */
export function useCanEdit(): boolean {
  return useSession()?.role === "admin";
}
