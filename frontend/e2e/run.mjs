// End-to-end test of the console in a real browser (Debian's Chromium driven by playwright-core)
// against a real console API. It walks what a person does: log in, read the dashboard, set up
// the connections, create a mapping, run a sync and watch it, resolve conflicts, read the audit
// log, change the schedule, export CSV. A screenshot of each section goes to docs/screenshots/.
//
// Environment:
//   CONSOLE_URL        the served console (e.g. http://127.0.0.1:5180), or
//   CONSOLE_API_URL    where /api lives (origin, e.g. http://127.0.0.1:8090): the console is then
//                      built and served here with `vite preview` on a free port for the run
//   CONSOLE_USER       default admin;  CONSOLE_PASSWORD  required
//   ZAMMAD_URL, KIMAI_URL  set the connections when they are not configured yet (token
//                      demo-admin-token, or ZAMMAD_TOKEN / KIMAI_TOKEN)
//   E2E_STACK=1        the full local stack: runs are processed (progress must reach 100 %) and
//                      the demo data's first sync left open conflicts to resolve
//   E2E_TICKETS        ticket ids for the sync (default 1,2,3)
//   CHROMIUM           default /usr/bin/chromium;  SCREENSHOT_DIR  default ../docs/screenshots
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..");
const env = process.env;
const password = env.CONSOLE_PASSWORD;
const user = env.CONSOLE_USER ?? "admin";
const stack = env.E2E_STACK === "1";
const tickets = env.E2E_TICKETS ?? "1,2,3";
const shots = path.resolve(env.SCREENSHOT_DIR ?? path.join(root, "..", "docs", "screenshots"));
const TIMEOUT = 20_000;

if (!password) fail("CONSOLE_PASSWORD is required");
if (!env.CONSOLE_URL && !env.CONSOLE_API_URL) fail("set CONSOLE_URL (a served console) or CONSOLE_API_URL (where /api lives)");

function fail(message) {
  console.error(`e2e: ${message}`);
  process.exit(2);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function run(cmd, args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...env, ...extraEnv } });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`))));
  });
}

/** Builds the console and serves it with `vite preview`, /api forwarded to CONSOLE_API_URL. */
async function serveConsole() {
  await run("npm", ["run", "build", "--silent"]);
  const port = await freePort();
  const child = spawn("npx", ["vite", "preview", "--port", String(port)], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...env, CONSOLE_API_URL: env.CONSOLE_API_URL },
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/config.json`)).ok) {
        const stop = () => {
          try {
            process.kill(-child.pid, "SIGTERM");
          } catch {
            // already gone
          }
        };
        // Whatever way this script ends, the server it started goes with it.
        process.on("exit", stop);
        return { url, stop };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.kill(-child.pid, "SIGTERM");
  throw new Error("vite preview did not start");
}

const results = [];
async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`PASS ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    // The first lines name the locator that timed out.
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message.split("\n").slice(0, 4).join(" | ") : e}`);
    throw e;
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** The main sections are also taken 1920 px wide (`<name>-1920.png`): both widths are looked at. */
const WIDE = new Set(["dashboard", "reconcile", "notifications", "users"]);

/** The viewport as a person sees it, with the section (or dialog) in view. */
async function shot(page, name, locator) {
  mkdirSync(shots, { recursive: true });
  const inView = async () => {
    if (locator) await locator.evaluate((el) => el.scrollIntoView({ block: "start", behavior: "instant" }));
    await page.waitForTimeout(300);
  };
  await inView();
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
  if (WIDE.has(name)) {
    const narrow = page.viewportSize();
    await page.setViewportSize({ width: 1920, height: 1080 });
    await inView();
    await page.screenshot({ path: path.join(shots, `${name}-1920.png`) });
    await page.setViewportSize(narrow);
  }
}

async function section(page, id) {
  await page.locator(`nav[aria-label="Sections"] a[href="#${id}"]`).click();
  const el = page.locator(`section#${id}`);
  await el.scrollIntoViewIfNeeded();
  return el;
}

async function main() {
  const served = env.CONSOLE_URL ? { url: env.CONSOLE_URL.replace(/\/$/, ""), stop: () => {} } : await serveConsole();
  const profile = mkdtempSync(path.join(tmpdir(), "console-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = context.pages()[0] ?? (await context.newPage());
  const base = served.url;
  const openapi = await (await fetch(`${base}/api/openapi.json`)).json();
  const has = (p) => Object.prototype.hasOwnProperty.call(openapi.paths ?? {}, p);
  // The dashboard's 7-day minutes before this run's sync, to see its bookings arrive.
  let weekBefore = "";

  try {
    await step("login: a wrong password is refused, the right one opens the console", async () => {
      await page.goto(`${base}/`);
      await page.waitForURL(/\/login/);
      await shot(page, "login");
      await page.getByLabel("User name").fill(user);
      await page.getByLabel("Password").fill("wrong-password-123");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "wrong" }).waitFor();
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByTestId("current-user").filter({ hasText: user }).waitFor();
      expect(new URL(page.url()).pathname === "/", `expected the console at /, got ${page.url()}`);
    });

    await step("a 401 returns to login once, without a loop", async () => {
      const meCalls = [];
      const listener = (r) => r.url().includes("/api/") && meCalls.push(r.url());
      page.on("request", listener);
      await page.evaluate(() => {
        const key = "sync-console.session";
        const s = JSON.parse(sessionStorage.getItem(key));
        sessionStorage.setItem(key, JSON.stringify({ ...s, token: "not-a-valid-token" }));
      });
      // A reload: every section asks the API with the bad token at once.
      await page.goto(`${base}/#history`);
      await page.reload();
      await page.waitForURL(/\/login/);
      await page.waitForTimeout(1500);
      page.off("request", listener);
      expect(new URL(page.url()).pathname === "/login", `expected /login, got ${page.url()}`);
      // Every section asked once at most; nothing keeps asking after the redirect.
      expect(meCalls.length < 40, `${meCalls.length} API calls after the token went bad`);
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByTestId("current-user").waitFor();
    });

    await step("connections: configured (set here when new) and tested", async () => {
      const sec = await section(page, "connections");
      const zammad = sec.getByTestId("zammad-connection");
      const kimai = sec.getByTestId("kimai-connection");
      await zammad.getByRole("button", { name: "Save" }).waitFor();
      if (await zammad.getByText("no token").isVisible()) {
        expect(env.ZAMMAD_URL, "the Zammad connection is not configured: set ZAMMAD_URL");
        await zammad.getByLabel("URL").fill(env.ZAMMAD_URL);
        await zammad.getByLabel("API token").fill(env.ZAMMAD_TOKEN ?? "demo-admin-token");
        await zammad.getByRole("button", { name: "Save" }).click();
        await zammad.getByText("token set").waitFor();
      }
      if (await kimai.getByText("no token").isVisible()) {
        expect(env.KIMAI_URL, "the Kimai connection is not configured: set KIMAI_URL");
        await kimai.getByLabel("URL").fill(env.KIMAI_URL);
        await kimai.getByLabel("API token").fill(env.KIMAI_TOKEN ?? "demo-admin-token");
        await kimai.getByRole("button", { name: "Save" }).click();
        await kimai.getByText("token set").waitFor();
      }
      await zammad.getByRole("button", { name: "Test connection" }).click();
      await zammad.getByTestId("connection-test-result").filter({ hasText: "Connection works" }).waitFor();
      await kimai.getByRole("button", { name: "Test connection" }).click();
      await kimai.getByTestId("connection-test-result").filter({ hasText: "Connection works" }).waitFor();
      await shot(page, "connections", sec);
    });

    await step("dashboard: KPI cards and the store's health show", async () => {
      const sec = await section(page, "dashboard");
      await sec.getByTestId("kpi-open-conflicts").waitFor();
      await sec.getByTestId("health-store").filter({ hasText: "ok" }).waitFor();
      for (const part of ["zammad", "kimai"]) {
        await sec.getByTestId(`health-${part}`).filter({ hasText: has("/api/health/details") ? /^.*ok/ : "not available" }).waitFor();
      }
      await sec.getByTestId("kpi-last-run").waitFor();
      await sec.getByTestId("minutes-chart").waitFor();
      weekBefore = await sec.getByTestId("kpi-synced-7-days").locator(".font-semibold").innerText();
    });

    await step("mappings: create an activity mapping from the live pickers", async () => {
      const sec = await section(page, "mappings");
      const form = sec.getByRole("form", { name: "Add activity mapping" });
      await form.locator("#map-activity-zammad").click();
      // The picker's list (native <select> options elsewhere on the page are options too).
      const options = page.getByRole("listbox").getByRole("option");
      await options.nth(1).click();
      await form.locator("#map-activity-kimai").click();
      await options.first().waitFor();
      await page.keyboard.type("a");
      await options.first().click();
      const chosen = await form.locator("#map-activity-zammad").innerText();
      await form.getByRole("button", { name: "Add mapping" }).click();
      await sec.getByRole("table", { name: "activity mappings" }).getByRole("row").filter({ hasText: chosen.trim() }).first().waitFor();
      // The live preview books a sample of the mapped type with the mapped activity.
      const preview = sec.getByTestId("policy-preview");
      const typeId = (await sec.getByRole("table", { name: "activity mappings" }).getByRole("row").nth(1).innerText()).match(/#(\d+)/)[1];
      await preview.getByLabel("Type id").fill(typeId);
      await preview.getByLabel("Amount (minutes)").fill("50");
      await preview.getByTestId("preview-duration").filter({ hasText: "50 min" }).waitFor();
      await preview.getByText("from the type's mapping").waitFor();
      await shot(page, "mappings", sec);
    });

    await step(stack ? "sync now: a run starts and its progress reaches 100 %" : "sync now: a run starts and shows its progress", async () => {
      if (stack) {
        // Fresh time for today (the demo data is from 2024): agent 3 is mapped to a Kimai user
        // in the demo policy, ticket 101's group to a project, so it is booked and counted.
        // And time of agent 2, who has no Kimai user: each accounting opens a conflict, so the
        // reconcile step has fresh ones to resolve however often the suite ran on this stack.
        const book = async (ticket_id, created_by_id, minutes) => {
          const booked = await fetch(`${env.ZAMMAD_URL}/__admin/accountings`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ ticket_id, created_by_id, time_unit: String(minutes), type_id: 1, created_at: new Date(Date.now() - 3600_000).toISOString() }),
          });
          expect(booked.ok, `the Zammad simulator refused the accounting: ${booked.status}`);
        };
        await book(101, 3, 45);
        for (const ticket of [101, 103, 105]) await book(ticket, 2, 15);
      }
      await page.getByRole("button", { name: "Sync now" }).first().click();
      const dialog = page.getByRole("dialog", { name: "Sync now" });
      await dialog.getByRole("tab", { name: "Tickets" }).click();
      await dialog.getByLabel("Ticket ids").fill(tickets);
      await dialog.getByRole("button", { name: "Start sync" }).click();
      const progress = dialog.getByTestId("sync-now-progress");
      const count = tickets.split(",").length;
      await progress.filter({ hasText: `of ${count} tickets done` }).waitFor();
      await shot(page, "sync-now", dialog);
      if (stack) {
        await progress.filter({ hasText: "(100 %)" }).waitFor({ timeout: 120_000 });
      }
      await dialog.getByRole("button", { name: "Close" }).first().click();
      const sec = await section(page, "dashboard");
      await sec.getByTestId("recent-run").first().waitFor();
    });

    await step("dashboard: the synced minutes show in the KPIs and the chart", async () => {
      const sec = await section(page, "dashboard");
      const chart = sec.getByTestId("minutes-chart");
      if (!has("/api/kpis")) {
        await chart.getByTestId("not-available").waitFor();
      } else if (stack) {
        // "100 %" means the tickets were planned; the Kimai writer books them from its own
        // queue a moment later, and only booked (synced) minutes count. So reload until they
        // show, for at most a minute.
        // The 7-day sum, not today's: an entry booked just after local midnight begins
        // yesterday (it ends when it was logged), and counts on yesterday's bar.
        let week = "";
        for (const started = Date.now(); Date.now() - started < 60_000; ) {
          await page.reload();
          await chart.locator(".recharts-bar-rectangle").first().waitFor();
          week = await sec.getByTestId("kpi-synced-7-days").locator(".font-semibold").innerText();
          if (/\d/.test(week) && week !== "0 min" && week !== weekBefore) break;
          await page.waitForTimeout(2_000);
        }
        expect(/\d/.test(week) && week !== "0 min" && week !== weekBefore, `minutes synced in 7 days show ${week}, as before the sync (${weekBefore})`);
      } else {
        // Nothing processes runs without the stack: no minutes are synced.
        await chart.getByText("No minutes synced in this period").waitFor();
      }
      await shot(page, "dashboard", sec);
    });

    await step(stack ? "reconcile: resolve one conflict, then several at once" : "reconcile: the conflicts list answers (empty without the stack)", async () => {
      const sec = await section(page, "reconcile");
      const rows = sec.getByTestId("conflict-row");
      if (!stack) {
        await sec.getByText("No open conflicts").waitFor();
      } else {
        await rows.first().waitFor();
        const before = await rows.count();
        expect(before >= 3, `need at least 3 open conflicts, found ${before}`);
        const first = rows.first();
        const id = await first.getAttribute("data-conflict-id");
        // Every row's actions are in view at this width (the table fits the page).
        const width = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(width <= 0, `the page scrolls sideways by ${width} px`);
        const viewport = page.viewportSize();
        for (const button of await first.getByRole("button").all()) {
          const box = await button.boundingBox();
          expect(box && box.x + box.width <= viewport.width, `a row action is cut off at ${viewport.width} px`);
        }
        await shot(page, "reconcile", sec);
        await first.getByRole("button", { name: "Details and comparison" }).click();
        const drawer = page.getByRole("dialog", { name: / on ticket / });
        await drawer.getByTestId("drawer-detail").waitFor();
        await drawer.getByRole("table", { name: "Zammad and Kimai side by side" }).or(drawer.getByTestId("conflict-detail")).first().waitFor();
        const ticketLink = drawer.getByRole("link", { name: "Zammad ticket" });
        expect((await ticketLink.getAttribute("href")).includes("#ticket/zoom/"), "the drawer links to the Zammad ticket");
        await shot(page, "conflict-drawer", drawer);
        await drawer.getByRole("button", { name: "Close" }).click();
        await drawer.waitFor({ state: "detached" });
        await first.getByRole("button", { name: "Ignore" }).click();
        await sec.locator(`[data-conflict-id="${id}"]`).waitFor({ state: "detached" });
        await rows.nth(0).getByRole("checkbox").click();
        await rows.nth(1).getByRole("checkbox").click();
        await sec.getByTestId("selected-count").filter({ hasText: "2 selected" }).waitFor();
        await sec.getByLabel("Action for the selected conflicts").selectOption("ignore");
        await sec.getByRole("button", { name: "Apply to 2" }).click();
        await sec.getByRole("status").filter({ hasText: "2 resolved" }).waitFor();
        const after = await rows.count();
        expect(after <= before - 3, `expected at most ${before - 3} open conflicts, found ${after}`);
      }
      if (!stack) await shot(page, "reconcile", sec);
    });

    if (stack) {
      await step("reconcile: map an unmapped agent from the conflict, which re-syncs and closes it", async () => {
        const sec = await section(page, "reconcile");
        // Agent 2 (no Kimai user in the demo) booked on three tickets in "sync now".
        const unmapped = sec.getByTestId("conflict-row").filter({ hasText: "Unmapped user" });
        await unmapped.first().waitFor();
        const row = unmapped.first();
        const agent = (await row.locator("td").nth(3).innerText()).split("\n")[0].trim();
        expect(agent && !/^agent \d+$/.test(agent) && agent !== "—", `the agent shows by name, not id: ${agent}`);
        const agentId = await row.getAttribute("data-agent-id");
        const before = await unmapped.filter({ hasText: agent }).count();
        await row.getByRole("button", { name: "Map…" }).click();
        const group = row.getByRole("group", { name: /^Map / });
        await group.locator("[id^=fix-]").click();
        const options = page.getByRole("listbox").getByRole("option");
        await options.first().waitFor();
        await options.filter({ hasText: "Clara" }).first().click();
        const go = group.getByRole("button", { name: /Map and re-sync \d+/ });
        const tickets = Number((await go.innerText()).match(/(\d+)/)[1]);
        expect(tickets >= 1, "at least one ticket to re-sync");
        await go.click();
        await row.getByRole("status").filter({ hasText: `Re-syncing ${tickets} ticket` }).waitFor();
        await shot(page, "map-from-conflict", sec);
        // The run reconciles those tickets; the conflicts the mapping fixed close.
        let left = before;
        for (const started = Date.now(); Date.now() - started < 90_000 && left > 0; ) {
          await page.waitForTimeout(3_000);
          await page.reload();
          const again = await section(page, "reconcile");
          await again.getByRole("table", { name: "Open conflicts" }).or(again.getByText("No open conflicts")).waitFor();
          left = await again.getByTestId("conflict-row").filter({ hasText: "Unmapped user" }).filter({ hasText: agent }).count();
        }
        expect(left === 0, `${left} of ${before} conflicts of ${agent} still open`);
        // Back as it was, so the next run of this suite on the stack finds the agent unmapped.
        const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("sync-console.session")).token);
        const removed = await fetch(`${base}/api/mappings/user/${agentId}`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });
        expect(removed.ok, `removing the mapping again: ${removed.status}`);
        // That change bypassed the console: read the policy document's new version.
        await page.reload();
        await page.getByTestId("current-user").waitFor();
      });
    }

    await step("policies: the form saves (approval mode on, then off again)", async () => {
      const sec = await section(page, "mappings");
      const form = sec.getByRole("form", { name: "Policies" });
      const approval = form.getByRole("switch", { name: /Hold new timesheets for approval/ });
      const setApproval = async (on) => {
        if ((await approval.getAttribute("aria-checked")) !== String(on)) await approval.click();
        await form.getByRole("button", { name: "Save policies" }).click();
        await form.getByText("Saved", { exact: true }).waitFor();
        // The form shows what the API answered after the save.
        await page.waitForFunction(
          ([el, want]) => el.getAttribute("aria-checked") === want,
          [await approval.elementHandle(), String(on)],
        );
      };
      await setApproval(true);
      await setApproval(false);
    });

    await step("audit: the changes made here are listed with actor and IP", async () => {
      const sec = await section(page, "history");
      await sec.getByRole("tab", { name: "Audit log" }).click();
      const table = sec.getByRole("table", { name: "Audit log" });
      // Only this user's events: the sync's own events of the same minutes (a scheduled run may
      // rewrite many timesheets after the mapping) would push them off the first page.
      await sec.getByLabel("Actor").fill(user);
      await table.getByRole("row").filter({ hasText: "mapping.set" }).first().waitFor();
      await table.getByRole("row").filter({ hasText: "sync_run.start" }).first().waitFor();
      await table.getByRole("row").filter({ hasText: "policies.update" }).first().waitFor();
      if (stack) await table.getByRole("row").filter({ hasText: "conflict.resolve_many" }).first().waitFor();
      // The action filter is exact: only the failed login of the first step is left.
      await sec.getByLabel("Action").fill("login.failed");
      await table.getByRole("row").filter({ hasText: "mapping.set" }).first().waitFor({ state: "detached" });
      const rows = await table.getByRole("row").allInnerTexts();
      expect(rows.length >= 2 && rows.slice(1).every((r) => r.includes("login.failed") && r.includes(user) && /127\.0\.0\.1/.test(r)), `failed-login rows: ${rows.join(" | ")}`);
      await sec.getByLabel("Action").fill("");
      await sec.getByLabel("Actor").fill("");
      await shot(page, "history", sec);
    });

    await step("schedule: weekly in Tokyo shows the next runs there, and is saved", async () => {
      await page.getByRole("button", { name: "Schedule" }).first().click();
      const dialog = page.getByRole("dialog", { name: "Schedule" });
      await dialog.getByRole("radio", { name: "Weekly" }).click();
      const days = dialog.getByRole("group", { name: "On" });
      for (const d of ["Mon", "Tue", "Wed", "Thu", "Fri"]) {
        if ((await days.getByRole("button", { name: d }).getAttribute("aria-pressed")) === "true") await days.getByRole("button", { name: d }).click();
      }
      await dialog.getByRole("group", { name: "On" }).getByRole("button", { name: "Wed" }).click();
      await dialog.getByLabel("At", { exact: true }).fill("07:30");
      await dialog.locator("#schedule-zone").click();
      await page.getByPlaceholder(/Search zones/).fill("tokyo");
      await page.getByRole("listbox").getByRole("option", { name: /Asia\/Tokyo/ }).click();
      const next = dialog.getByTestId("next-runs");
      await next.filter({ hasText: "Asia/Tokyo" }).waitFor();
      const items = next.getByRole("listitem");
      expect((await items.count()) === 3, "three next runs");
      for (const text of await items.allInnerTexts()) {
        expect(text.startsWith("Wed") && text.includes("07:30") && text.includes("GMT+9"), `next run ${text}`);
      }
      await shot(page, "schedule", dialog);
      await dialog.getByRole("button", { name: "Save schedule" }).click();
      await dialog.waitFor({ state: "detached" });
      await page.getByRole("button", { name: "Schedule" }).first().click();
      const again = page.getByRole("dialog", { name: "Schedule" });
      await again.getByRole("radio", { name: "Weekly", checked: true }).waitFor();
      await again.getByRole("button", { name: "Wed" }).and(again.locator('[aria-pressed="true"]')).waitFor();
      await again.getByRole("button", { name: "Cancel" }).click();
    });

    await step("notifications: a muted type stays muted after a reload; a test event reaches the chat", async () => {
      const sec = await section(page, "notifications");
      const approvals = sec.getByRole("switch", { name: "Tell people: Approval Awaiting" });
      await approvals.waitFor();
      expect((await sec.getByRole("switch", { name: "Tell people: Notification Test" }).isDisabled()) === true, "the test event cannot be muted");
      if ((await approvals.getAttribute("aria-checked")) === "true") await approvals.click();
      await sec.getByRole("button", { name: "Save notifications" }).click();
      await sec.getByRole("status").filter({ hasText: "Saved" }).waitFor();
      await page.reload();
      const again = await section(page, "notifications");
      await again.getByRole("switch", { name: "Tell people: Approval Awaiting", checked: false }).waitFor();
      // Back on, so the stack's other suites see every type told.
      await again.getByRole("switch", { name: "Tell people: Approval Awaiting" }).click();
      await again.getByRole("button", { name: "Save notifications" }).click();
      await again.getByRole("status").filter({ hasText: "Saved" }).waitFor();
      await again.getByRole("button", { name: "Send a test event" }).click();
      const sent = again.getByRole("status").filter({ hasText: "Sent:" });
      await sent.waitFor();
      if (env.CONSOLE_CHAT_URL) {
        // The emulator's rule posts to the local receiver; the section polls it every 5 s.
        await again.getByRole("list", { name: "Last chat deliveries" }).getByText(/Notification Test: a test event sent by/).first().waitFor({ timeout: 20_000 });
      }
      await shot(page, "notifications", again);
    });

    await step("users: an admin creates a viewer, who sets their own password and can change nothing", async () => {
      const sec = await section(page, "users");
      const name = `e2e-viewer-${Date.now().toString(36)}`;
      await sec.getByLabel("User name").fill(name);
      await sec.getByLabel("Role", { exact: true }).selectOption("viewer");
      await sec.getByRole("button", { name: "Create user" }).click();
      const temporary = (await sec.getByTestId("temporary-password").locator("code").innerText()).trim();
      expect(/^[a-z2-9]{20}$/.test(temporary), `a pasteable temporary password: ${temporary}`);
      await shot(page, "users", sec);
      // The viewer, in a tab of their own (sessions are per tab).
      const tab = await context.newPage();
      try {
        await tab.goto(`${base}/login`);
        await tab.getByLabel("User name").fill(name);
        await tab.getByLabel("Password").fill(temporary);
        await tab.getByRole("button", { name: "Sign in" }).click();
        const dialog = tab.getByRole("dialog", { name: "Set your own password" });
        await dialog.waitFor();
        await tab.keyboard.press("Escape");
        expect(await dialog.isVisible(), "the temporary password's dialog cannot be dismissed");
        await dialog.getByLabel("Temporary password").fill(temporary);
        await dialog.getByLabel("New password", { exact: true }).fill("the viewer's own password");
        await dialog.getByLabel("New password again").fill("the viewer's own password");
        await dialog.getByRole("button", { name: "Save password" }).click();
        await dialog.waitFor({ state: "detached" });
        await tab.getByRole("note").filter({ hasText: "viewer" }).waitFor();
        // Nothing to change: the sections' change controls are disabled, Users is not there.
        expect((await tab.locator('nav[aria-label="Sections"] a[href="#users"]').count()) === 0, "no Users section for a viewer");
        const notifications = await section(tab, "notifications");
        await notifications.getByRole("switch", { name: "Tell people: SyncRun Failed" }).waitFor();
        expect(await notifications.getByRole("switch", { name: "Tell people: SyncRun Failed" }).isDisabled(), "switches are read only");
        expect(await notifications.getByRole("button", { name: "Save notifications" }).isDisabled(), "saving is disabled");
        expect(await notifications.getByRole("button", { name: "Send a test event" }).isDisabled(), "the test event is for admins");
        const mappings = await section(tab, "mappings");
        const save = mappings.getByRole("button", { name: /Save policies/ });
        await save.waitFor();
        expect(await save.isDisabled(), "policies are read only");
        await shot(tab, "viewer", notifications);
      } finally {
        await tab.close();
      }
      // Back as the admin: the viewer logged in with a password of their own; then remove them.
      await page.reload();
      const again = await section(page, "users");
      const row = again.getByTestId("user-row").filter({ hasText: name });
      await row.getByText("active").waitFor();
      expect(!(await row.getByText("never").count()), "the last login shows");
      page.once("dialog", (d) => d.accept());
      await row.getByRole("button", { name: `Remove ${name}` }).click();
      await row.waitFor({ state: "detached" });
    });

    await step("history: a run's detail shows its counters and its tickets' entries", async () => {
      const sec = await section(page, "history");
      await sec.getByRole("tab", { name: "Runs" }).click();
      const manual = sec.getByTestId("history-run").filter({ hasText: "manual" }).first();
      await manual.getByRole("button", { name: "Details" }).click();
      const dialog = page.getByRole("dialog", { name: "Run details" });
      await dialog.getByTestId("run-detail").getByText("tickets queued").waitFor();
      await dialog.getByText("Tickets:").waitFor();
      if (stack && has("/api/entries")) {
        await dialog.getByRole("table", { name: "Entries of the run's tickets" }).getByText("synced").first().waitFor();
      }
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
    });

    await step("csv: runs and audit export download as CSV", async () => {
      const sec = await section(page, "history");
      await sec.getByRole("tab", { name: "Runs" }).click();
      await sec.getByTestId("history-run").first().waitFor();
      let [download] = await Promise.all([page.waitForEvent("download"), sec.getByRole("button", { name: "Export CSV" }).click()]);
      let text = readFileSync(await download.path(), "utf8");
      expect(text.startsWith("id,trigger,state,started_at,finished_at"), `runs CSV header: ${text.split("\n")[0]}`);
      expect(text.trim().split("\n").length >= 2, "runs CSV has the run");
      await sec.getByRole("tab", { name: "Audit log" }).click();
      [download] = await Promise.all([page.waitForEvent("download"), sec.getByRole("button", { name: "Export CSV" }).click()]);
      text = readFileSync(await download.path(), "utf8");
      expect(text.startsWith("at,kind,action,actor,ip,detail"), `audit CSV header: ${text.split("\n")[0]}`);
      expect(text.includes("mapping.set"), "audit CSV lists the mapping change");
    });
  } catch {
    // The failing step was reported; the summary below counts it. What the page showed then:
    const file = path.join(tmpdir(), "console-e2e-failure.png");
    await page.screenshot({ path: file, fullPage: false }).catch(() => {});
    console.log(`the page at the failure: ${file}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    served.stop();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
