import { lazy, Suspense, useState } from "react";
import { Activity, AlertTriangle, CalendarClock, Clock, Database, Gauge, Timer } from "lucide-react";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Button } from "@/components/ui/button";
import { Progress } from "@/components/ui/progress";
import { Section } from "@/components/Section";
import { EmptyState, ErrorState, LoadingState } from "@/components/QueryState";
import { ApiError } from "@/api/errors";
import { formatDateTime, formatMinutes, formatPercent, formatRelative } from "@/lib/format";
import { cn } from "@/lib/utils";
import { useRuns, type SyncRun } from "@/features/history/api";
import { useHealthDetails, useKpis, useOpenConflictCount, useStoreHealth } from "./api";
import { OutageLine } from "./OutageLine";
import { RunStateBadge } from "./RunState";

// recharts is most of the dashboard's weight: it loads with the chart, not with the console.
const MinutesBars = lazy(() => import("./MinutesBars"));

function Kpi({ label, value, hint, icon: Icon, tone }: { label: string; value: string; hint?: string; icon: typeof Clock; tone?: "warn" }) {
  return (
    <Card className="gap-2 py-4" data-testid={`kpi-${label.toLowerCase().replace(/\W+/g, "-")}`}>
      <CardHeader className="items-center">
        <CardDescription className="truncate font-medium">{label}</CardDescription>
        <Icon className={cn("size-4 text-muted-foreground", tone === "warn" && "text-amber-600")} aria-hidden />
      </CardHeader>
      <CardContent>
        <div className="whitespace-nowrap text-xl font-semibold tabular-nums tracking-tight xl:text-2xl">{value}</div>
        {hint && <p className="mt-0.5 text-xs text-muted-foreground">{hint}</p>}
      </CardContent>
    </Card>
  );
}

function HealthDot({ status }: { status: "ok" | "degraded" | "down" | "unknown" }) {
  const color = { ok: "bg-emerald-500", degraded: "bg-amber-500", down: "bg-red-500", unknown: "bg-zinc-300" }[status];
  return <span className={cn("inline-block size-2 rounded-full", color)} aria-hidden />;
}

function HealthRow({ name, status, detail }: { name: string; status: "ok" | "degraded" | "down" | "unknown"; detail: string }) {
  return (
    <li className="flex items-center justify-between gap-3 py-2.5" data-testid={`health-${name.toLowerCase()}`}>
      <span className="flex items-center gap-2.5 text-sm font-medium">
        <HealthDot status={status} />
        {name}
      </span>
      <span className="truncate text-xs text-muted-foreground">{detail}</span>
    </li>
  );
}

const HEALTH_LABEL = { ok: "ok", not_configured: "not configured", unavailable: "unavailable", timeout: "timed out" } as const;
const HEALTH_DOT = { ok: "ok", not_configured: "unknown", unavailable: "down", timeout: "degraded" } as const;

function Health() {
  const store = useStoreHealth();
  const details = useHealthDetails();
  const detailsMissing = details.error instanceof ApiError && details.error.kind === "not_available";
  const row = (name: "zammad" | "kimai") => {
    if (details.isPending) return { status: "unknown" as const, detail: "checking…" };
    if (detailsMissing) return { status: "unknown" as const, detail: "not available" };
    if (!details.data) return { status: "down" as const, detail: "could not be checked" };
    const c = details.data[name];
    const latency = c.latencyMs !== null ? ` · ${c.latencyMs} ms` : "";
    return { status: HEALTH_DOT[c.status], detail: c.status === "ok" ? `ok${latency}` : c.detail || HEALTH_LABEL[c.status] };
  };
  // The store's probe: from the details when the API has them, else the plain health route.
  const storeState = details.data
    ? { status: HEALTH_DOT[details.data.store.status], detail: details.data.store.status === "ok" ? `ok · ${details.data.store.latencyMs ?? 0} ms` : HEALTH_LABEL[details.data.store.status] }
    : store.isPending
      ? { status: "unknown" as const, detail: "checking…" }
      : store.data
        ? { status: store.data.status === "ok" ? ("ok" as const) : ("degraded" as const), detail: store.data.status === "ok" ? "ok" : "degraded" }
        : { status: "down" as const, detail: "unreachable" };
  return (
    <Card className="gap-1">
      <CardHeader>
        <CardTitle className="text-sm">Health</CardTitle>
        <Activity className="size-4 text-muted-foreground" aria-hidden />
      </CardHeader>
      <CardContent>
        <ul className="divide-y">
          <HealthRow name="Store" {...storeState} />
          <HealthRow name="Zammad" {...row("zammad")} />
          <HealthRow name="Kimai" {...row("kimai")} />
        </ul>
        {details.data?.kimaiOutage && <OutageLine outage={details.data.kimaiOutage} />}
      </CardContent>
    </Card>
  );
}

function MinutesChart() {
  const [days, setDays] = useState(7);
  const kpis = useKpis();
  const perDay = kpis.data?.perDay.slice(-days) ?? [];
  return (
    <Card className="col-span-2 gap-3">
      <CardHeader className="items-center">
        <div>
          <CardTitle className="text-sm">Minutes synced per day</CardTitle>
          <CardDescription className="mt-1 text-xs">Booked into Kimai, by day of the timesheet</CardDescription>
        </div>
        <div role="group" aria-label="Chart period" className="flex rounded-md border p-0.5">
          {[7, 30].map((d) => (
            <Button key={d} size="sm" variant={days === d ? "secondary" : "ghost"} className="h-7 px-2.5" aria-pressed={days === d} onClick={() => setDays(d)}>
              {d} days
            </Button>
          ))}
        </div>
      </CardHeader>
      <CardContent className="h-56" data-testid="minutes-chart">
        {kpis.isPending ? (
          <LoadingState rows={5} />
        ) : kpis.error ? (
          <ErrorState error={kpis.error} what="The chart" retry={() => kpis.refetch()} className="h-full justify-center" />
        ) : perDay.every((d) => d.minutes === 0) ? (
          <EmptyState title="No minutes synced in this period" className="h-full" />
        ) : (
          <Suspense fallback={<LoadingState rows={5} />}>
            <MinutesBars perDay={perDay} />
          </Suspense>
        )}
      </CardContent>
    </Card>
  );
}

function RunRow({ run }: { run: SyncRun }) {
  const c = run.counters;
  const percent = run.progress === null || run.progress === undefined ? null : Math.round(run.progress * 100);
  return (
    <li className="grid grid-cols-[7rem_6rem_1fr_9rem] items-center gap-4 py-3 text-sm" data-testid="recent-run" data-run-id={run.id}>
      <span className="text-muted-foreground">{formatDateTime(run.started_at)}</span>
      <span className="flex items-center gap-2">
        <RunStateBadge state={run.state} />
      </span>
      <div className="space-y-1.5">
        <Progress value={percent ?? 0} aria-label={`Progress of run ${run.id}`} />
        <div className="flex gap-3 text-xs text-muted-foreground">
          <span data-testid="run-progress">{percent === null ? "nothing queued" : `${c.tickets_done} / ${c.tickets_queued} tickets · ${percent} %`}</span>
          <span>{c.created} created</span>
          <span>{c.updated} updated</span>
          {c.conflicts > 0 && <span className="text-amber-700">{c.conflicts} conflicts</span>}
          {c.failed > 0 && <span className="text-red-700">{c.failed} failed</span>}
        </div>
      </div>
      <span className="truncate text-right text-xs text-muted-foreground">
        {run.trigger}
        {(run.params as { dry_run?: boolean } | null)?.dry_run ? " · dry run" : ""}
      </span>
    </li>
  );
}

function RecentRuns() {
  const runs = useRuns({ limit: 6 }, true);
  return (
    <Card className="col-span-3 gap-2">
      <CardHeader>
        <CardTitle className="text-sm">Recent runs</CardTitle>
        <Timer className="size-4 text-muted-foreground" aria-hidden />
      </CardHeader>
      <CardContent>
        {runs.isPending ? (
          <LoadingState />
        ) : runs.error ? (
          <ErrorState error={runs.error} what="Runs" retry={() => runs.refetch()} />
        ) : runs.data.items.length === 0 ? (
          <EmptyState title="No runs yet">Start one with “Sync now”, or set a schedule.</EmptyState>
        ) : (
          <ul className="divide-y">
            {runs.data.items.map((r) => (
              <RunRow key={r.id} run={r} />
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}

export function DashboardSection({ onScheduleClick }: { onScheduleClick: () => void }) {
  const kpis = useKpis();
  const kpisMissing = kpis.error instanceof ApiError && kpis.error.kind === "not_available";
  const conflictCount = useOpenConflictCount(kpisMissing);
  const lastRun = useRuns({ limit: 6 }, true).data?.items[0];
  const k = kpis.data;
  const dash = kpis.isPending ? "…" : "—";
  const openConflicts = k ? `${k.openConflicts}${k.openConflictsCapped ? "+" : ""}` : conflictCount.data ? `${conflictCount.data.count}${conflictCount.data.more ? "+" : ""}` : dash;
  return (
    <Section
      id="dashboard"
      title="Dashboard"
      description="What the sync did lately and whether its parts are reachable."
      actions={
        <Button variant="outline" size="sm" onClick={onScheduleClick}>
          <CalendarClock aria-hidden /> Schedule
        </Button>
      }
    >
      <div className="grid grid-cols-5 gap-4">
        <Kpi label="Open conflicts" value={openConflicts} icon={AlertTriangle} tone={k && k.openConflicts > 0 ? "warn" : undefined} hint="need a decision" />
        <Kpi label="Last run" value={lastRun ? formatRelative(lastRun.started_at) : "never"} icon={Clock} hint={lastRun ? `${lastRun.trigger} · ${lastRun.state}` : undefined} />
        <Kpi label="Synced today" value={k ? formatMinutes(k.minutesToday) : dash} icon={Timer} hint={kpisMissing ? "not available" : "minutes booked"} />
        <Kpi label="Synced 7 days" value={k ? formatMinutes(k.minutes7d) : dash} icon={Database} hint={kpisMissing ? "not available" : "minutes booked"} />
        <Kpi label="Error rate" value={k ? (k.errorRate === null ? "—" : formatPercent(k.errorRate)) : dash} icon={Gauge} hint={kpisMissing ? "not available" : "of writes, 7 days"} />
      </div>
      <div className="grid grid-cols-3 gap-4">
        <MinutesChart />
        <Health />
        <RecentRuns />
      </div>
    </Section>
  );
}
