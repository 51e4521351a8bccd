/**
 * The login token lives in sessionStorage: it survives a reload, not a closed tab, and never
 * enters the bundle. Listeners hear when it goes away (logout, or a 401 from any call).
 */
const KEY = "sync-console.session";

export type Role = "admin" | "viewer";

export interface Session {
  token: string;
  username: string;
  role: Role;
  expiresAt: string;
}

type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();

export function readSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    if (new Date(session.expiresAt).getTime() <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
  listeners.forEach((l) => l(session));
}

export function clearSession() {
  const had = sessionStorage.getItem(KEY) !== null;
  sessionStorage.removeItem(KEY);
  if (had) listeners.forEach((l) => l(null));
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
