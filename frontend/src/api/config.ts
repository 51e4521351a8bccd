/**
 * The runtime configuration, read from `/config.json` next to `index.html` before the app starts,
 * so one build serves any deployment. Only public facts belong there: never a token.
 */
export interface RuntimeConfig {
  /** Where the API's `/api` lives: `/api` (same origin, as CloudFront routes it) or a full URL. */
  apiBaseUrl: string;
}

export const DEFAULT_CONFIG: RuntimeConfig = { apiBaseUrl: "/api" };

export class ConfigError extends Error {}

/** Checks the parsed file; a wrong value stops the app with a message instead of odd calls. */
export function parseConfig(raw: unknown): RuntimeConfig {
  if (raw === null || typeof raw !== "object") throw new ConfigError("config.json must hold a JSON object");
  const base = (raw as Record<string, unknown>).apiBaseUrl ?? DEFAULT_CONFIG.apiBaseUrl;
  if (typeof base !== "string" || !/\/api\/?$/.test(base)) {
    throw new ConfigError("config.json: apiBaseUrl must be a string ending in /api");
  }
  return { apiBaseUrl: base.replace(/\/$/, "") };
}

/** The origin part the generated paths (which start with `/api/`) are appended to. */
export function apiOrigin(config: RuntimeConfig): string {
  return config.apiBaseUrl.replace(/\/api$/, "");
}

export async function loadConfig(): Promise<RuntimeConfig> {
  const answer = await fetch("/config.json", { cache: "no-store" });
  if (answer.status === 404) return DEFAULT_CONFIG;
  if (!answer.ok) throw new ConfigError(`config.json could not be read (HTTP ${answer.status})`);
  return parseConfig(await answer.json());
}
