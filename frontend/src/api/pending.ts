/**
 * Routes the console needs that the API's OpenAPI document does not list yet (KPIs, health of
 * Zammad and Kimai, the entries ledger and its approval, dead letters). They are called through
 * the same client, and their answers are read defensively: when the route is missing the call
 * fails with `ApiError` kind `not_available`, and the screen says so instead of breaking.
 * When the API adds them, regenerate `schema.d.ts` and move each caller to the typed client.
 */
import { api } from "./instance";
import { unwrapResponse } from "./client";

const num = (v: unknown, fallback = 0) => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
const str = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" ? (v as Record<string, unknown>) : {});

async function getJson(path: string, query?: Record<string, string | number | undefined>): Promise<unknown> {
  const response = await unwrapResponse(await api().raw("GET", path, { query }), false);
  return response.json();
}

async function postJson(path: string, body: unknown): Promise<unknown> {
  const response = await unwrapResponse(await api().raw("POST", path, { body }), false);
  return response.status === 204 ? {} : response.json();
}

export interface Kpis {
  openConflicts: number;
  minutesToday: number;
  minutes7d: number;
  /** Failed share of the period's operations, 0..1. */
  errorRate: number;
  perDay: { day: string; minutes: number }[];
}

export async function fetchKpis(days: number): Promise<Kpis> {
  const k = obj(await getJson("/api/kpis", { days }));
  const perDay = Array.isArray(k.minutes_per_day) ? k.minutes_per_day : Array.isArray(k.per_day) ? k.per_day : [];
  return {
    openConflicts: num(k.open_conflicts),
    minutesToday: num(k.minutes_today),
    minutes7d: num(k.minutes_7d ?? k.minutes_7_days),
    errorRate: num(k.error_rate),
    perDay: perDay.map((d) => ({ day: str(obj(d).day ?? obj(d).date), minutes: num(obj(d).minutes) })),
  };
}

export type HealthStatus = "ok" | "degraded" | "down";

export interface UpstreamHealth {
  name: "zammad" | "kimai";
  status: HealthStatus;
  detail: string;
  latencyMs: number | null;
}

function healthOf(name: "zammad" | "kimai", raw: unknown): UpstreamHealth {
  const h = obj(raw);
  const s = str(h.status);
  return {
    name,
    status: s === "ok" ? "ok" : s === "degraded" ? "degraded" : "down",
    detail: str(h.detail ?? h.error ?? h.version),
    latencyMs: typeof h.latency_ms === "number" ? h.latency_ms : null,
  };
}

export async function fetchUpstreamHealth(name: "zammad" | "kimai"): Promise<UpstreamHealth> {
  return healthOf(name, await getJson(`/api/health/${name}`));
}

export interface LedgerEntry {
  key: string;
  ticketId: number;
  agent: string;
  day: string;
  begin: string;
  end: string;
  durationSecs: number;
  description: string;
  status: string;
}

export async function fetchAwaitingApproval(): Promise<LedgerEntry[]> {
  const page = obj(await getJson("/api/entries", { status: "awaiting_approval", limit: 200 }));
  const items = Array.isArray(page.items) ? page.items : [];
  return items.map((raw) => {
    const e = obj(raw);
    const desired = obj(e.desired);
    return {
      key: str(e.key),
      ticketId: num(e.ticket_id ?? desired.ticket_id),
      agent: str(e.agent ?? desired.agent_id),
      day: str(e.day ?? desired.day),
      begin: str(e.begin ?? desired.begin),
      end: str(e.end ?? desired.end),
      durationSecs: num(e.duration_secs ?? desired.duration_secs),
      description: str(e.description ?? desired.description),
      status: str(e.status),
    };
  });
}

export async function approveEntries(entries: { ticketId: number; key: string }[]): Promise<void> {
  await postJson("/api/entries/approve", { entries: entries.map((e) => ({ ticket: e.ticketId, key: e.key })) });
}

export interface DeadLetter {
  id: string;
  queue: string;
  receivedAt: string;
  summary: string;
  attempts: number;
}

export async function fetchDeadLetters(): Promise<DeadLetter[]> {
  const page = obj(await getJson("/api/dead-letters", { limit: 200 }));
  const items = Array.isArray(page.items) ? page.items : [];
  return items.map((raw) => {
    const d = obj(raw);
    return {
      id: str(d.id ?? d.message_id),
      queue: str(d.queue),
      receivedAt: str(d.received_at ?? d.sent_at ?? d.at),
      summary: str(d.summary ?? d.error ?? d.body).slice(0, 200),
      attempts: num(d.attempts ?? d.receive_count),
    };
  });
}

export async function replayDeadLetters(queue: string, ids: string[]): Promise<void> {
  await postJson("/api/dead-letters/replay", { queue, ids });
}
