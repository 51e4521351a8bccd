import { afterEach, describe, expect, it } from "vitest";
import { apiOrigin, ConfigError, parseConfig } from "./config";
import { ApiError, classify } from "./errors";
import { clearSession, readSession, saveSession } from "./session";
import { safeNext } from "@/features/auth/safeNext";
import { createApiClient, unwrap } from "./client";

describe("runtime config", () => {
  it("defaults to the same origin and accepts a full URL", () => {
    expect(parseConfig({})).toEqual({ apiBaseUrl: "/api" });
    expect(apiOrigin(parseConfig({ apiBaseUrl: "https://x.example/api/" }))).toBe("https://x.example");
    expect(apiOrigin(parseConfig({ apiBaseUrl: "/api" }))).toBe("");
  });
  it("refuses a base URL that does not end in /api", () => {
    expect(() => parseConfig({ apiBaseUrl: "https://x.example" })).toThrow(ConfigError);
    expect(() => parseConfig("nope")).toThrow(ConfigError);
  });
});

describe("errors", () => {
  it("classify statuses for what the screen should do", () => {
    expect(classify(401, null, true).kind).toBe("unauthorized");
    expect(classify(404, { detail: "no resource at /api/kpis" }, true).kind).toBe("not_available");
    expect(classify(404, { detail: "no such conflict" }, true).kind).toBe("not_found");
    expect(classify(404, null, false).kind).toBe("not_available");
    expect(classify(409, null, true).kind).toBe("conflict");
    const invalid = classify(400, { detail: "bad", errors: [{ field: "row 2", message: "x" }] }, true);
    expect(invalid.kind).toBe("invalid");
    expect(invalid.fieldErrors).toHaveLength(1);
    expect(classify(503, null, true).retryable).toBe(true);
    expect(classify(400, null, true).retryable).toBe(false);
  });
});

describe("session and login redirects", () => {
  afterEach(() => clearSession());

  it("forgets an expired session", () => {
    saveSession({ token: "t", username: "a", role: "admin", expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(readSession()).toBeNull();
  });

  it("goes back only to a path of this app, never to login", () => {
    expect(safeNext("/#reconcile")).toBe("/#reconcile");
    expect(safeNext("/login?next=/login")).toBe("/");
    expect(safeNext("//evil.example")).toBe("/");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });

  it("a 401 ends the session; the login call's own 401 does not loop", async () => {
    saveSession({ token: "t", username: "a", role: "admin", expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const fetchImpl = async (input: RequestInfo | URL) => {
      const url = input instanceof Request ? input.url : String(input);
      return new Response(JSON.stringify({ status: 401, title: "Unauthorized", detail: url }), { status: 401, headers: { "Content-Type": "application/problem+json" } });
    };
    const client = createApiClient({ apiBaseUrl: "http://127.0.0.1:9/api" }, fetchImpl as typeof fetch);
    await expect(unwrap(client.http.POST("/api/auth/login", { body: { username: "a", password: "b" } }))).rejects.toBeInstanceOf(ApiError);
    expect(readSession()).not.toBeNull();
    await expect(unwrap(client.http.GET("/api/auth/me"))).rejects.toMatchObject({ kind: "unauthorized" });
    expect(readSession()).toBeNull();
  });
});

describe("a 401 of a replaced session", () => {
  it("does not end the session that replaced it (a password change renews the token mid-flight)", async () => {
    const later = new Date(Date.now() + 60_000).toISOString();
    saveSession({ token: "old", username: "v", role: "viewer", expiresAt: later });
    let answer: (r: Response) => void = () => {};
    const pending = new Promise<Response>((resolve) => (answer = resolve));
    const client = createApiClient({ apiBaseUrl: "http://127.0.0.1:9/api" }, (() => pending) as typeof fetch);
    // A call sent with the old token is still under way when the new token arrives.
    const inFlight = unwrap(client.http.GET("/api/auth/me")).catch((e: unknown) => e);
    await Promise.resolve();
    saveSession({ token: "new", username: "v", role: "viewer", expiresAt: later });
    answer(new Response(JSON.stringify({ status: 401, title: "Unauthorized" }), { status: 401, headers: { "Content-Type": "application/problem+json" } }));
    expect(await inFlight).toMatchObject({ kind: "unauthorized" });
    expect(readSession()?.token).toBe("new");
    clearSession();
  });
});

describe("typed calls", () => {
  it("carry the API's problem (detail and field errors) into the ApiError", async () => {
    const fetchImpl = async () =>
      new Response(JSON.stringify({ status: 400, title: "Bad Request", detail: "the policies are invalid", errors: [{ field: "rounding", message: "step must be at least 1" }] }), {
        status: 400,
        headers: { "Content-Type": "application/problem+json" },
      });
    const client = createApiClient({ apiBaseUrl: "http://127.0.0.1:9/api" }, fetchImpl as typeof fetch);
    const error = await unwrap(client.http.GET("/api/policies")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ kind: "invalid", message: "the policies are invalid" });
    expect((error as ApiError).fieldErrors).toEqual([{ field: "rounding", message: "step must be at least 1" }]);
  });

  it("report an unreachable API as a network error worth retrying", async () => {
    const client = createApiClient({ apiBaseUrl: "http://127.0.0.1:9/api" }, (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch);
    const error = await unwrap(client.http.GET("/api/health")).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "network", retryable: true });
  });
});

describe("invalidation rules", () => {
  it("a mapping change makes the policies stale too (one document, one version), and the other way round", async () => {
    const { QueryClient } = await import("@tanstack/react-query");
    const { invalidateAfter, queryKeys } = await import("./queryKeys");
    const client = new QueryClient();
    client.setQueryData(queryKeys.policies, { version: 1 });
    client.setQueryData(queryKeys.mappings, { version: 1 });
    client.setQueryData(queryKeys.schedule, { configured: true });
    await invalidateAfter(client, "mappingsChanged");
    expect(client.getQueryState(queryKeys.policies)?.isInvalidated).toBe(true);
    expect(client.getQueryState(queryKeys.schedule)?.isInvalidated).toBe(false);
    client.setQueryData(queryKeys.mappings, { version: 2 });
    await invalidateAfter(client, "policiesSaved");
    expect(client.getQueryState(queryKeys.mappings)?.isInvalidated).toBe(true);
  });
});
