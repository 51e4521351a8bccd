/**
 * Routes the console needs that the API's OpenAPI document does not list yet (KPIs, health of
 * Zammad and Kimai, the entries ledger and its approval, dead letters), with the shapes the API
 * is being given (`kpis.rs`, `system.rs` health details, `entries.rs`, `dead_letters.rs`). They are called through
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
  /** More open conflicts exist than were counted. */
  openConflictsCapped: boolean;
  minutesToday: number;
  minutes7d: number;
  minutes30d: number;
  /** Failed share of what the last 7 days' runs did, 0..1; null when they did nothing. */
  errorRate: number | null;
  /** The last 30 local days, oldest first (today last). */
  perDay: { day: string; minutes: number }[];
}

/** `GET /api/kpis`: counted on request from the stores. */
export async function fetchKpis(): Promise<Kpis> {
  const k = obj(await getJson("/api/kpis"));
  const perDay = (Array.isArray(k.minutes_per_day) ? k.minutes_per_day : []).map((d) => ({ day: str(obj(d).day), minutes: num(obj(d).minutes) }));
  const rate = obj(k.error_rate).rate;
  return {
    openConflicts: num(k.open_conflicts),
    openConflictsCapped: k.open_conflicts_capped === true,
    minutesToday: perDay.length > 0 ? perDay[perDay.length - 1].minutes : 0,
    minutes7d: num(k.minutes_7d),
    minutes30d: num(k.minutes_30d),
    errorRate: typeof rate === "number" ? rate : null,
    perDay,
  };
}

export type HealthStatus = "ok" | "not_configured" | "unavailable" | "timeout";

export interface Check {
  status: HealthStatus;
  latencyMs: number | null;
  detail: string;
}

export interface HealthDetails {
  store: Check;
  zammad: Check;
  kimai: Check;
}

function checkOf(raw: unknown): Check {
  const c = obj(raw);
  const s = str(c.status);
  return {
    status: s === "ok" || s === "not_configured" || s === "timeout" ? s : "unavailable",
    latencyMs: typeof c.latency_ms === "number" ? c.latency_ms : null,
    detail: str(c.detail),
  };
}

/** `GET /api/health/details`: store, Zammad and Kimai probed, each with status and latency. */
export async function fetchHealthDetails(): Promise<HealthDetails> {
  const h = obj(await getJson("/api/health/details"));
  return { store: checkOf(h.store), zammad: checkOf(h.zammad), kimai: checkOf(h.kimai) };
}

export interface LedgerEntry {
  ticketId: number;
  key: string;
  agent: number;
  day: string;
  status: string;
  minutes: number | null;
  begin: string;
  end: string;
  description: string;
}

/** `GET /api/entries?status=awaiting_approval`: creates held back in approval mode. */
export async function fetchAwaitingApproval(): Promise<LedgerEntry[]> {
  const page = obj(await getJson("/api/entries", { status: "awaiting_approval", limit: 500 }));
  const items = Array.isArray(page.items) ? page.items : [];
  return items.map((raw) => {
    const e = obj(raw);
    const desired = obj(e.desired);
    return {
      ticketId: num(e.ticket),
      key: str(e.key),
      agent: num(e.agent),
      day: str(e.day),
      status: str(e.status),
      minutes: typeof e.minutes === "number" ? e.minutes : null,
      begin: str(desired.begin),
      end: str(desired.end),
      description: str(desired.description),
    };
  });
}

export interface ApprovalResult {
  approved: number;
  notApproved: { key: string; outcome: string; detail: string }[];
}

/** `POST /api/entries/approve` with `{entries: [{ticket, key}]}` (1..=500). */
export async function approveEntries(entries: { ticketId: number; key: string }[]): Promise<ApprovalResult> {
  const r = obj(await postJson("/api/entries/approve", { entries: entries.map((e) => ({ ticket: e.ticketId, key: e.key })) }));
  const items = (Array.isArray(r.items) ? r.items : []).map(obj);
  return {
    approved: num(r.approved),
    notApproved: items.filter((i) => i.outcome !== "approved").map((i) => ({ key: str(i.key), outcome: str(i.outcome), detail: str(i.detail) })),
  };
}

export interface DeadLetter {
  queue: string;
  messageId: string;
  ticketId: number | null;
  kind: string;
  decodeError: string;
  body: string;
}

/** `GET /api/dead-letters`: both dead-letter queues, up to 200 messages each. */
export async function fetchDeadLetters(): Promise<{ items: DeadLetter[]; truncated: boolean }> {
  const list = obj(await getJson("/api/dead-letters"));
  const items = (Array.isArray(list.items) ? list.items : []).map((raw) => {
    const d = obj(raw);
    return {
      queue: str(d.queue),
      messageId: str(d.message_id),
      ticketId: typeof d.ticket_id === "number" ? d.ticket_id : null,
      kind: str(d.kind),
      decodeError: str(d.decode_error),
      body: str(d.body),
    };
  });
  return { items, truncated: list.truncated === true };
}

/** `POST /api/dead-letters/{queue}/replay` with `{message_id}`: back to its source queue. */
export async function replayDeadLetter(queue: string, messageId: string): Promise<{ replayed: boolean; error: string }> {
  const r = obj(await postJson(`/api/dead-letters/${encodeURIComponent(queue)}/replay`, { message_id: messageId }));
  const replayed = Array.isArray(r.replayed) && r.replayed.includes(messageId);
  const problems = [...(Array.isArray(r.failed) ? r.failed : []), ...(Array.isArray(r.not_deleted) ? r.not_deleted : [])].map(obj);
  return { replayed, error: problems.map((f) => str(f.error)).join("; ") };
}
