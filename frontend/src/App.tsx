import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { ApiError } from "@/api/errors";
import { onSessionChange } from "@/api/session";
import { RequireSession } from "@/features/auth/RequireSession";

// The login page and the console are chunks of their own: the first download stays small.
const LoginPage = lazy(() => import("@/features/auth/LoginPage").then((m) => ({ default: m.LoginPage })));
const ConsolePage = lazy(() => import("@/features/layout/ConsolePage").then((m) => ({ default: m.ConsolePage })));

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        refetchOnWindowFocus: false,
        // Retry only what may pass later; a 401, 403, 404 or 400 will not.
        retry: (count, error) => count < 2 && error instanceof ApiError && error.retryable,
      },
    },
  });
}

export function App() {
  const [client] = useState(makeQueryClient);
  // A logout (or a 401 that ended the session) must not leave the last user's data in memory.
  useEffect(() => onSessionChange((session) => session === null && client.clear()), [client]);
  return (
    <QueryClientProvider client={client}>
      <BrowserRouter>
        <Suspense fallback={<div className="p-8 text-sm text-muted-foreground">Loading…</div>}>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route
            path="/"
            element={
              <RequireSession>
                <ConsolePage />
              </RequireSession>
            }
          />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
        </Suspense>
      </BrowserRouter>
    </QueryClientProvider>
  );
}
