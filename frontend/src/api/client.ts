/**
 * The one HTTP client of the console: typed from the API's OpenAPI document (`schema.d.ts`,
 * generated), with the bearer token added and every failure turned into an `ApiError`.
 * A 401 on any call but login ends the session, which sends the app back to `/login` once;
 * unless the call carried a token that has since been replaced (a password change answers a
 * new one while calls made with the old one are still under way: their 401s are expected).
 */
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { apiOrigin, type RuntimeConfig } from "./config";
import { clearSession, readSession } from "./session";
import { ApiError, classify, readProblem, type Problem } from "./errors";

export type ApiClient = ReturnType<typeof createApiClient>;

/** Ends the session after a 401, if the refused call was made with the session's token. */
function endSessionSentWith(authorization: string | null) {
  const session = readSession();
  if (session && authorization === `Bearer ${session.token}`) clearSession();
}

export function createApiClient(config: RuntimeConfig, fetchImpl: typeof fetch = (...a) => fetch(...a)) {
  const origin = apiOrigin(config);
  const http = createClient<paths>({ baseUrl: origin, fetch: fetchImpl });
  const auth: Middleware = {
    onRequest({ request }) {
      const session = readSession();
      if (session) request.headers.set("Authorization", `Bearer ${session.token}`);
      return request;
    },
    onResponse({ request, response }) {
      if (response.status === 401 && !new URL(request.url).pathname.endsWith("/api/auth/login")) endSessionSentWith(request.headers.get("Authorization"));
      return response;
    },
  };
  http.use(auth);

  /** Calls a path that is not in the OpenAPI document (yet): same auth, same errors, untyped. */
  async function raw(method: string, path: string, init: { query?: Record<string, string | number | undefined>; body?: unknown; text?: { body: string; contentType: string }; accept?: string } = {}) {
    const url = new URL(origin + path, window.location.origin);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    const headers = new Headers({ Accept: init.accept ?? "application/json" });
    const session = readSession();
    if (session) headers.set("Authorization", `Bearer ${session.token}`);
    if (init.body !== undefined) headers.set("Content-Type", "application/json");
    if (init.text) headers.set("Content-Type", init.text.contentType);
    const body = init.text ? init.text.body : init.body === undefined ? undefined : JSON.stringify(init.body);
    let response: Response;
    try {
      response = await fetchImpl(url.toString(), { method, headers, body });
    } catch (e) {
      throw new ApiError("network", 0, null, e instanceof Error ? e.message : "network error");
    }
    if (response.status === 401) endSessionSentWith(headers.get("Authorization"));
    return response;
  }

  return { http, raw, origin };
}

/**
 * Unwraps an openapi-fetch answer: the data, or an `ApiError` saying what went wrong. `known`
 * is false for routes the generated document does not list, so a 404 there means "not offered".
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>, known = true): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await call;
  } catch (e) {
    throw new ApiError("network", 0, null, e instanceof Error ? e.message : "network error");
  }
  if (answer.response.ok) return answer.data as T;
  // openapi-fetch has read the body already: its parsed error is the problem document.
  const problem = answer.error && typeof answer.error === "object" ? (answer.error as Problem) : await readProblem(answer.response);
  throw classify(answer.response.status, problem, known);
}

/** The same for a raw `Response` (CSV downloads, routes added after the last generation). */
export async function unwrapResponse(response: Response, known: boolean): Promise<Response> {
  if (response.ok) return response;
  throw classify(response.status, await readProblem(response), known);
}
