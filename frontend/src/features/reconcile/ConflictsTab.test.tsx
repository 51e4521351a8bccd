import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installApi } from "@/api/instance";
import { clearSession, saveSession } from "@/api/session";
import { ConflictsTab } from "./ConflictsTab";

// A small HTTP server on 127.0.0.1 answering the two routes this screen calls, with a conflict
// list we write here: the list, and a resolve that fails (409) or succeeds, as the test says.
const conflict = (id: string, ticket: number, reason: string) => ({
  id,
  status: "open",
  opened_at: "2026-11-20T10:00:00Z",
  conflict: { key: `ta:${id}`, ticket_id: ticket, reason, detail: `detail ${id}`, desired: null, base: null, kimai: null, candidates: [] },
  resolution: null,
});

let open = [conflict("c1", 11, "both_changed"), conflict("c2", 12, "both_changed"), conflict("c3", 13, "deleted_in_kimai")];
let failResolve = true;
const resolved: string[] = [];
let server: Server;

function send(res: ServerResponse, status: number, body: unknown, type = "application/json") {
  res.writeHead(status, { "Content-Type": type });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (req.method === "GET" && url.pathname === "/api/conflicts") return send(res, 200, { items: open, next: null });
  const one = /^\/api\/conflicts\/(\w+)\/resolve$/.exec(url.pathname);
  if (req.method === "POST" && one) {
    // Wait a moment, so the optimistic removal is visible before the answer.
    await new Promise((r) => setTimeout(r, 150));
    if (failResolve) return send(res, 409, { status: 409, title: "Conflict", detail: "already resolved by someone else" }, "application/problem+json");
    resolved.push(one[1]);
    open = open.filter((c) => c.id !== one[1]);
    return send(res, 200, {});
  }
  if (req.method === "POST" && url.pathname === "/api/conflicts/resolve") {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const { ids } = JSON.parse(raw) as { ids: string[] };
    resolved.push(...ids);
    open = open.filter((c) => !ids.includes(c.id));
    return send(res, 200, { resolved: ids.length, items: ids.map((id) => ({ id, outcome: "resolved", detail: null })) });
  }
  // Everything else the screen's invalidation refetches (audit, KPIs) is not needed here.
  return send(res, 404, { status: 404, detail: `no resource at ${url.pathname}` }, "application/problem+json");
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

function renderTab(canEdit = true) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <ConflictsTab canEdit={canEdit} />
    </QueryClientProvider>,
  );
}

const rowOf = (ticket: number) => screen.queryByRole("row", { name: new RegExp(`#${ticket}\\b`) });

describe("ConflictsTab", () => {
  it("removes a resolved row at once and puts it back when the API refuses", async () => {
    const user = userEvent.setup();
    renderTab();
    await waitFor(() => expect(rowOf(11)).not.toBeNull());
    await user.click(within(rowOf(11)!).getByRole("button", { name: "Keep Kimai" }));
    // Optimistic: gone before the answer...
    await waitFor(() => expect(rowOf(11)).toBeNull());
    // ...and back after the 409, with the API's reason shown.
    await waitFor(() => expect(rowOf(11)).not.toBeNull());
    expect(await screen.findByRole("alert")).toHaveTextContent("already resolved by someone else");
    expect(resolved).toEqual([]);
  });

  it("opens one drawer with the conflict's detail, and closes it", async () => {
    const user = userEvent.setup();
    renderTab();
    await waitFor(() => expect(rowOf(12)).not.toBeNull());
    await user.click(within(rowOf(12)!).getByRole("button", { name: "Details and comparison" }));
    const drawer = await screen.findByRole("dialog", { name: /on ticket/ });
    expect(within(drawer).getByTestId("drawer-detail")).toHaveTextContent("detail c2");
    expect(document.querySelectorAll('[role="dialog"]')).toHaveLength(1);
    await user.click(within(drawer).getByRole("button", { name: "Close" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
  });

  it("shows a viewer the list with every action disabled", async () => {
    renderTab(false);
    await waitFor(() => expect(rowOf(12)).not.toBeNull());
    const actions = within(rowOf(12)!).getAllByRole("button").filter((b) => b.textContent !== "");
    expect(actions.map((b) => b.textContent)).toEqual(["Keep Kimai", "Apply Zammad", "Ignore"]);
    for (const button of actions) expect(button).toBeDisabled();
    expect(screen.getByRole("checkbox", { name: "Select all conflicts shown" })).toBeDisabled();
  });

  it("offers only the actions that fit every selected reason, and resolves many at once", async () => {
    failResolve = false;
    const user = userEvent.setup();
    renderTab();
    await waitFor(() => expect(rowOf(12)).not.toBeNull());
    await user.click(screen.getByRole("checkbox", { name: "Select conflict on ticket 11" }));
    await user.click(screen.getByRole("checkbox", { name: "Select conflict on ticket 13" }));
    const bulk = screen.getByRole("combobox", { name: "Action for the selected conflicts" });
    // both_changed and deleted_in_kimai share only "ignore".
    expect(within(bulk).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose an action…", "Ignore"]);
    await user.selectOptions(bulk, "ignore");
    await user.click(screen.getByRole("button", { name: "Apply to 2" }));
    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("2 resolved."));
    expect(resolved).toEqual(["c1", "c3"]);
    expect(rowOf(11)).toBeNull();
    expect(rowOf(13)).toBeNull();
    expect(rowOf(12)).not.toBeNull();
  });
});
