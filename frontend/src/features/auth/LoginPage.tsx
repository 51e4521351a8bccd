import { useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { ArrowRightLeft, Loader2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { ApiError, errorMessage } from "@/api/errors";
import { login } from "./api";
import { safeNext } from "./safeNext";
import { useSession } from "./useSession";

export function LoginPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (session) return <Navigate to={next} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
      navigate(next, { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.kind === "unauthorized") setError("User name or password is wrong.");
      else if (e instanceof ApiError && e.kind === "throttled") setError("Too many failed attempts. Wait a few minutes and try again.");
      else setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-screen items-center justify-center bg-muted/40 px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center gap-2.5">
          <span className="flex size-9 items-center justify-center rounded-lg bg-primary text-primary-foreground">
            <ArrowRightLeft className="size-4" aria-hidden />
          </span>
          <div>
            <div className="text-sm font-semibold">Zammad → Kimai sync</div>
            <div className="text-xs text-muted-foreground">Console</div>
          </div>
        </div>
        <form onSubmit={submit} className="space-y-4 rounded-xl border bg-card p-6 shadow-xs" aria-labelledby="login-title">
          <div>
            <h1 id="login-title" className="text-lg font-semibold">Sign in</h1>
            <p className="text-sm text-muted-foreground">Use your console account.</p>
          </div>
          <div className="space-y-2">
            <Label htmlFor="username">User name</Label>
            <Input id="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
          </div>
          <div className="space-y-2">
            <Label htmlFor="password">Password</Label>
            <Input id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </div>
          {error && (
            <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
              {error}
            </p>
          )}
          <Button type="submit" className="w-full" disabled={busy}>
            {busy && <Loader2 className="animate-spin" aria-hidden />}
            Sign in
          </Button>
        </form>
      </div>
    </main>
  );
}
