import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { installApi } from "@/api/instance";
import { clearSession, saveSession } from "@/api/session";
import { SyncNowDialog } from "./SyncNowDialog";
import { planSummary, withAdopted } from "./api";

// A small HTTP server on 127.0.0.1 for the two routes the dialog calls: starting a run, and
// reading it back. The run we answer with is written here; it finishes on the first read.
const zero = { tickets_queued: 0, tickets_done: 0, created: 0, updated: 0, deleted: 0, adopted: 0, conflicts: 0, failed: 0 };
let finished: Record<string, number> = zero;
let started: unknown[] = [];
let server: Server;

const run = (state: string, counters: Record<string, number>, progress: number | null) => ({
  id: "run-1",
  trigger: "backfill",
  state,
  params: { dry_run: true },
  started_at: "2026-11-22T09:00:00Z",
  finished_at: state === "running" ? null : "2026-11-22T09:00:05Z",
  counters,
  progress,
});

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (req.method === "POST" && url.pathname === "/api/sync-runs") {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    started.push(JSON.parse(raw));
    return send(res, 201, run("running", { ...zero, tickets_queued: finished.tickets_queued }, 0));
  }
  if (req.method === "GET" && url.pathname === "/api/sync-runs/run-1") return send(res, 200, run("succeeded", finished, 1));
  return send(res, 404, { status: 404, detail: `no resource at ${url.pathname}` });
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  installApi({ apiBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api` });
  saveSession({ token: "t", username: "admin", role: "admin", expiresAt: new Date(Date.now() + 3600_000).toISOString() });
});

afterAll(async () => {
  clearSession();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  started = [];
});

function renderDialog() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <SyncNowDialog open onOpenChange={() => {}} />
    </QueryClientProvider>,
  );
}

describe("SyncNowDialog", () => {
  it("shows what a finished dry run would do", async () => {
    finished = { ...zero, tickets_queued: 3, tickets_done: 3, created: 2, updated: 1, adopted: 1, conflicts: 1 };
    const user = userEvent.setup();
    renderDialog();
    await user.click(screen.getByRole("switch", { name: /Dry run/ }));
    await user.click(screen.getByRole("button", { name: "Plan" }));

    const plan = await screen.findByTestId("sync-now-plan");
    expect(plan).toHaveTextContent(
      "The sync would create 2 timesheets, update 1, adopt 1 existing timesheet in Kimai for 3 tickets, and open 1 conflict for review.",
    );
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ dry_run: true });
    const summary = screen.getByLabelText("Plan summary");
    const cell = (label: string) => within(summary).getByText(new RegExp(`would be ${label}$`)).parentElement!;
    expect(within(cell("created")).getByText("2")).toBeInTheDocument();
    expect(within(cell("adopted")).getByText("1")).toBeInTheDocument();
    expect(within(cell("deleted")).getByText("0")).toBeInTheDocument();
  });

  it("says so when a dry run would change nothing", async () => {
    finished = { ...zero, tickets_queued: 1, tickets_done: 1 };
    const user = userEvent.setup();
    renderDialog();
    await user.click(screen.getByRole("switch", { name: /Dry run/ }));
    await user.click(screen.getByRole("button", { name: "Plan" }));
    expect(await screen.findByTestId("sync-now-plan")).toHaveTextContent("The sync would change nothing in Kimai for 1 ticket.");
  });

  it("shows no plan sentence for a real run", async () => {
    finished = { ...zero, tickets_queued: 1, tickets_done: 1, created: 1 };
    const user = userEvent.setup();
    renderDialog();
    await user.click(screen.getByRole("button", { name: "Start sync" }));
    expect(await screen.findByLabelText("Run summary")).toBeInTheDocument();
    expect(started[0]).toMatchObject({ dry_run: false });
    expect(screen.queryByTestId("sync-now-plan")).toBeNull();
  });
});

describe("planSummary", () => {
  it("names failures and reads a run without the adopted counter as none adopted", () => {
    const old = { tickets_queued: 2, tickets_done: 2, created: 0, updated: 0, deleted: 3, conflicts: 0, failed: 1 };
    expect(withAdopted(old).adopted).toBe(0);
    expect(planSummary(withAdopted(old))).toBe("The sync would delete 3 in Kimai for 2 tickets. 1 ticket could not be planned.");
  });
});
