import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Progress } from "@/components/ui/progress";
import { ErrorState, LoadingState } from "@/components/QueryState";
import { RunStateBadge } from "@/features/dashboard/RunState";
import { formatDateTime } from "@/lib/format";
import { useRun } from "./api";

export function RunDetailDialog({ id, onClose }: { id: string | null; onClose: () => void }) {
  const run = useRun(id);
  return (
    <Dialog open={id !== null} onOpenChange={(o) => !o && onClose()}>
      <DialogContent className="max-w-xl">
        <DialogHeader>
          <DialogTitle>Run details</DialogTitle>
          <DialogDescription className="font-mono text-xs">{id}</DialogDescription>
        </DialogHeader>
        {run.isPending ? (
          <LoadingState />
        ) : run.error ? (
          <ErrorState error={run.error} what="The run" retry={() => run.refetch()} />
        ) : (
          <div className="space-y-4 text-sm" data-testid="run-detail">
            <div className="flex items-center gap-3">
              <RunStateBadge state={run.data.state} />
              <span className="text-muted-foreground">
                {run.data.trigger} · started {formatDateTime(run.data.started_at)} · finished {formatDateTime(run.data.finished_at)}
              </span>
            </div>
            <Progress value={Math.round((run.data.progress ?? 0) * 100)} aria-label="Progress" />
            <dl className="grid grid-cols-4 gap-2">
              {Object.entries(run.data.counters).map(([k, v]) => (
                <div key={k} className="rounded-md border px-3 py-2">
                  <dd className="text-base font-semibold tabular-nums">{String(v)}</dd>
                  <dt className="text-xs text-muted-foreground">{k.replace(/_/g, " ")}</dt>
                </div>
              ))}
            </dl>
            <div>
              <h4 className="mb-1 text-xs font-medium uppercase tracking-wide text-muted-foreground">Items</h4>
              <RunItems params={run.data.params} />
            </div>
          </div>
        )}
      </DialogContent>
    </Dialog>
  );
}

/** What the run was asked to do: its tickets or date range, and whether it was a dry run. */
function RunItems({ params }: { params: unknown }) {
  const p = (params ?? {}) as { tickets?: number[]; from?: string; to?: string; dry_run?: boolean; mode?: string; skipped?: unknown };
  return (
    <ul className="space-y-1">
      {p.tickets && (
        <li>
          Tickets:{" "}
          {p.tickets.map((t) => (
            <span key={t} className="mr-1 inline-block rounded bg-muted px-1.5 font-mono text-xs">
              #{t}
            </span>
          ))}
        </li>
      )}
      {(p.from || p.to) && (
        <li>
          Range: {formatDateTime(p.from)} → {formatDateTime(p.to)}
        </li>
      )}
      {p.mode && <li>Mode: {p.mode}</li>}
      <li>{p.dry_run ? "Dry run: nothing written" : "Writes to Kimai"}</li>
      {p.skipped !== undefined && <li>Skipped: {JSON.stringify(p.skipped)}</li>}
    </ul>
  );
}
