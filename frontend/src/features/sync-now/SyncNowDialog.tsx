import { useState } from "react";
import { Loader2, Play } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Switch } from "@/components/ui/switch";
import { Progress } from "@/components/ui/progress";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { ChangeError, fieldError } from "@/components/FieldErrors";
import { useCanEdit } from "@/features/auth/useSession";
import { useRun, isMoving } from "@/features/history/api";
import { RunStateBadge } from "@/features/dashboard/RunState";
import { dayBoundary, isoDay } from "@/lib/format";
import { parseTickets, planSummary, useStartRun, withAdopted } from "./api";

function RunSummary({ id, dryRun }: { id: string; dryRun: boolean }) {
  const run = useRun(id);
  if (!run.data) return <p className="text-sm text-muted-foreground">Run {id} started…</p>;
  const r = run.data;
  const c = withAdopted(r.counters);
  const percent = r.progress === null || r.progress === undefined ? null : Math.round(r.progress * 100);
  const verb = dryRun ? "would be" : "";
  const finished = !isMoving(r);
  return (
    <div className="space-y-3 rounded-lg border bg-muted/20 p-4" data-testid="sync-now-run" aria-live="polite">
      <div className="flex items-center justify-between text-sm">
        <span className="font-medium">
          {dryRun ? "Dry run" : "Run"} <span className="font-mono text-xs text-muted-foreground">{r.id}</span>
        </span>
        <RunStateBadge state={r.state} />
      </div>
      <Progress value={percent ?? 0} aria-label="Run progress" />
      <p className="text-xs text-muted-foreground" data-testid="sync-now-progress">
        {percent === null ? (finished ? "Nothing was queued" : "Finding the tickets to sync…") : `${c.tickets_done} of ${c.tickets_queued} tickets done (${percent} %)`}
        {isMoving(r) ? " · updating…" : ""}
      </p>
      <dl className="grid grid-cols-6 gap-2 text-center" aria-label={dryRun ? "Plan summary" : "Run summary"}>
        {(
          [
            ["created", c.created],
            ["updated", c.updated],
            ["deleted", c.deleted],
            ["adopted", c.adopted],
            ["conflicts", c.conflicts],
            ["failed", c.failed],
          ] as const
        ).map(([label, value]) => (
          <div key={label} className="rounded-md border bg-card py-2">
            <dd className="text-lg font-semibold tabular-nums">{value}</dd>
            <dt className="text-xs text-muted-foreground">
              {verb} {label}
            </dt>
          </div>
        ))}
      </dl>
      {dryRun && finished && (
        <p className="text-sm" data-testid="sync-now-plan" role="status">
          {planSummary(c)}
        </p>
      )}
      {dryRun && <p className="text-xs text-muted-foreground">A dry run plans only: nothing was written to Kimai.</p>}
    </div>
  );
}

export function SyncNowDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const canEdit = useCanEdit();
  const start = useStartRun();
  const today = isoDay(new Date());
  const weekAgo = isoDay(new Date(Date.now() - 6 * 86400_000));
  const [mode, setMode] = useState<"range" | "tickets">("range");
  const [from, setFrom] = useState(weekAgo);
  const [to, setTo] = useState(today);
  const [tickets, setTickets] = useState("");
  const [dryRun, setDryRun] = useState(false);
  const [started, setStarted] = useState<{ id: string; dryRun: boolean } | null>(null);

  const ticketList = parseTickets(tickets);
  const problem =
    mode === "tickets"
      ? ticketList === null
        ? "Enter ticket ids (numbers), separated by commas or spaces."
        : ticketList.length > 1000
          ? "At most 1,000 tickets per run."
          : null
      : !from || !to
        ? "Choose both dates."
        : from > to
          ? "The start date must not be after the end date."
          : null;

  function close(next: boolean) {
    onOpenChange(next);
    if (!next) {
      setStarted(null);
      start.reset();
    }
  }

  return (
    <Dialog open={open} onOpenChange={close}>
      <DialogContent className="max-w-xl">
        <DialogHeader>
          <DialogTitle>Sync now</DialogTitle>
          <DialogDescription>Sync a date range or chosen tickets right away.</DialogDescription>
        </DialogHeader>
        <form
          className="space-y-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (problem) return;
            const body = mode === "tickets" ? { tickets: ticketList!, dry_run: dryRun } : { from: dayBoundary(from)!, to: dayBoundary(to, true)!, dry_run: dryRun };
            start.mutate(body, { onSuccess: (run) => setStarted({ id: run.id, dryRun }) });
          }}
        >
          <Tabs value={mode} onValueChange={(v) => setMode(v as "range" | "tickets")}>
            <TabsList aria-label="What to sync">
              <TabsTrigger value="range">Date range</TabsTrigger>
              <TabsTrigger value="tickets">Tickets</TabsTrigger>
            </TabsList>
            <TabsContent value="range" className="grid grid-cols-2 gap-3">
              <div className="space-y-1.5">
                <Label htmlFor="sync-from">From</Label>
                <Input id="sync-from" type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
                {fieldError(start.error, "from") && <p className="text-xs text-red-700">{fieldError(start.error, "from")}</p>}
              </div>
              <div className="space-y-1.5">
                <Label htmlFor="sync-to">To</Label>
                <Input id="sync-to" type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
                {fieldError(start.error, "to") && <p className="text-xs text-red-700">{fieldError(start.error, "to")}</p>}
              </div>
            </TabsContent>
            <TabsContent value="tickets" className="space-y-1.5">
              <Label htmlFor="sync-tickets">Ticket ids</Label>
              <Input id="sync-tickets" value={tickets} onChange={(e) => setTickets(e.target.value)} placeholder="e.g. 12, 40, 41" />
              {fieldError(start.error, "tickets") && <p className="text-xs text-red-700">{fieldError(start.error, "tickets")}</p>}
            </TabsContent>
          </Tabs>
          <div className="flex items-center gap-3">
            <Switch id="sync-dry-run" checked={dryRun} onCheckedChange={setDryRun} />
            <Label htmlFor="sync-dry-run">Dry run (plan only, write nothing)</Label>
          </div>
          {problem && (mode === "range" || tickets !== "") && (
            <p role="alert" className="text-sm text-amber-800">
              {problem}
            </p>
          )}
          {start.error && <ChangeError error={start.error} />}
          {started && <RunSummary id={started.id} dryRun={started.dryRun} />}
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => close(false)}>
              Close
            </Button>
            <Button type="submit" disabled={!canEdit || start.isPending || problem !== null}>
              {start.isPending ? <Loader2 className="animate-spin" aria-hidden /> : <Play aria-hidden />} {dryRun ? "Plan" : "Start sync"}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
