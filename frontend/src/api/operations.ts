/**
 * The dashboard's and the reconcile lists' calls whose answers the screens read in their own
 * terms (KPIs, health of store/Zammad/Kimai, the entries ledger and its approval, dead
 * letters): typed calls of the one client, mapped to what the components show. A 404 "no
 * resource at …" (an API without these routes) is `ApiError` kind `not_available`, which the
 * sections show as "… is not available", never a crash.
 */
import { api } from "./instance";
import { unwrap } from "./client";

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
  const k = await unwrap(api().http.GET("/api/kpis"));
  const perDay = k.minutes_per_day.map((d) => ({ day: d.day, minutes: d.minutes }));
  return {
    openConflicts: k.open_conflicts,
    openConflictsCapped: k.open_conflicts_capped,
    minutesToday: perDay.length > 0 ? perDay[perDay.length - 1].minutes : 0,
    minutes7d: k.minutes_7d,
    minutes30d: k.minutes_30d,
    errorRate: k.error_rate.rate ?? null,
    perDay,
  };
}

export type HealthStatus = "ok" | "not_configured" | "unavailable" | "timeout";

export interface Check {
  status: HealthStatus;
  latencyMs: number | null;
  detail: string;
}

/** Kimai found unreachable by the functions, whose records wait for it meanwhile. */
export interface KimaiOutage {
  since: string;
  detail: string;
  /** Messages in the two work queues, delayed ones included; null if unknown. */
  messagesWaiting: number | null;
}

export interface HealthDetails {
  store: Check;
  zammad: Check;
  kimai: Check;
  kimaiOutage: KimaiOutage | null;
}

function checkOf(c: { status: string; latency_ms: number; detail?: string | null }): Check {
  const s = c.status;
  return {
    status: s === "ok" || s === "not_configured" || s === "timeout" ? s : "unavailable",
    latencyMs: c.latency_ms,
    detail: c.detail ?? "",
  };
}

/** `GET /api/health/details`: store, Zammad and Kimai probed, each with status and latency. */
export async function fetchHealthDetails(): Promise<HealthDetails> {
  const h = await unwrap(api().http.GET("/api/health/details"));
  const outage = h.kimai_outage;
  return {
    store: checkOf(h.store),
    zammad: checkOf(h.zammad),
    kimai: checkOf(h.kimai),
    kimaiOutage: outage ? { since: outage.since, detail: outage.detail, messagesWaiting: outage.messages_waiting ?? null } : null,
  };
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

const text = (v: unknown) => (typeof v === "string" ? v : "");

/** `GET /api/entries?status=awaiting_approval`: creates held back in approval mode. */
export async function fetchAwaitingApproval(): Promise<LedgerEntry[]> {
  const page = await unwrap(api().http.GET("/api/entries", { params: { query: { status: "awaiting_approval", limit: 500 } } }));
  return page.items.map((e) => {
    // `desired` is the pipeline's desired timesheet, an open object in the document.
    const desired = (e.desired ?? {}) as Record<string, unknown>;
    return {
      ticketId: e.ticket,
      key: e.key,
      agent: e.agent,
      day: e.day,
      status: e.status,
      minutes: e.minutes ?? null,
      begin: text(desired.begin),
      end: text(desired.end),
      description: text(desired.description),
    };
  });
}

export interface ApprovalResult {
  approved: number;
  notApproved: { key: string; outcome: string; detail: string }[];
}

/** `POST /api/entries/approve` with `{entries: [{ticket, key}]}` (1..=500). */
export async function approveEntries(entries: { ticketId: number; key: string }[]): Promise<ApprovalResult> {
  const r = await unwrap(api().http.POST("/api/entries/approve", { body: { entries: entries.map((e) => ({ ticket: e.ticketId, key: e.key })) } }));
  return {
    approved: r.approved,
    notApproved: r.items.filter((i) => i.outcome !== "approved").map((i) => ({ key: i.key, outcome: i.outcome, detail: i.detail ?? "" })),
  };
}

export interface DeadLetter {
  queue: "ticket-sync" | "kimai-write";
  messageId: string;
  ticketId: number | null;
  kind: string;
  decodeError: string;
  body: string;
  /** Why its last delivery failed. */
  error: string;
  failedAt: string;
}

export interface DeadLetterList {
  items: DeadLetter[];
  truncated: boolean;
  /** Messages in each dead-letter queue now; more than listed means some died without a record. */
  inQueues: { ticketSync: number; kimaiWrite: number };
}

/** `GET /api/dead-letters`: the dead letters' records (up to 200 per queue) and the queues' counts. A read: nothing in the queues changes. */
export async function fetchDeadLetters(): Promise<DeadLetterList> {
  const list = await unwrap(api().http.GET("/api/dead-letters"));
  return {
    items: list.items.map((d) => ({
      queue: d.queue,
      messageId: d.message_id,
      ticketId: d.ticket_id ?? null,
      kind: d.kind ?? "",
      decodeError: d.decode_error ?? "",
      body: d.body,
      error: d.error,
      failedAt: d.failed_at,
    })),
    truncated: list.truncated,
    inQueues: { ticketSync: list.in_queues.ticket_sync, kimaiWrite: list.in_queues.kimai_write },
  };
}

/** `POST /api/dead-letters/{queue}/replay` with `{message_id}`: back to its source queue. */
export async function replayDeadLetter(queue: DeadLetter["queue"], messageId: string): Promise<{ replayed: boolean; error: string }> {
  const r = await unwrap(api().http.POST("/api/dead-letters/{queue}/replay", { params: { path: { queue } }, body: { message_id: messageId, all: false } }));
  const problems = [...r.failed, ...r.not_deleted];
  return { replayed: r.replayed.includes(messageId), error: problems.map((f) => f.error).join("; ") };
}

/** `GET /api/entries?ticket=`: every entry of one ticket (what a run of that ticket works on). */
export async function fetchTicketEntries(ticket: number): Promise<LedgerEntry[]> {
  const page = await unwrap(api().http.GET("/api/entries", { params: { query: { ticket } } }));
  return page.items.map((e) => {
    const desired = (e.desired ?? {}) as Record<string, unknown>;
    return {
      ticketId: e.ticket,
      key: e.key,
      agent: e.agent,
      day: e.day,
      status: e.status,
      minutes: e.minutes ?? null,
      begin: text(desired.begin),
      end: text(desired.end),
      description: text(desired.description),
    };
  });
}
