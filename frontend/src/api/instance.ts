/** The app's one API client, made once from the runtime config at start (tests install their own). */
import { createApiClient, type ApiClient } from "./client";
import type { RuntimeConfig } from "./config";

let current: ApiClient | null = null;

export function installApi(config: RuntimeConfig, fetchImpl?: typeof fetch): ApiClient {
  current = createApiClient(config, fetchImpl);
  return current;
}

export function api(): ApiClient {
  if (!current) throw new Error("the API client is not installed yet");
  return current;
}
