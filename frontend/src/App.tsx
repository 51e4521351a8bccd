import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { ApiError } from "@/api/errors";
import { onSessionChange } from "@/api/session";
import { LoginPage } from "@/features/auth/LoginPage";
import { RequireSession } from "@/features/auth/RequireSession";
import { ConsolePage } from "@/features/layout/ConsolePage";

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
      </BrowserRouter>
    </QueryClientProvider>
  );
}
