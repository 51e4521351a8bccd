import { useQueries } from "@tanstack/react-query";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Progress } from "@/components/ui/progress";
import { ErrorState, LoadingState } from "@/components/QueryState";
import { RunStateBadge } from "@/features/dashboard/RunState";
import { formatDateTime } from "@/lib/format";
import { Badge } from "@/components/ui/badge";
import { fetchTicketEntries } from "@/api/operations";
import { queryKeys } from "@/api/queryKeys";
import { ApiError } from "@/api/errors";
import { useRun } from "./api";

/** At most this many tickets' entries are listed in the dialog. */
const MAX_TICKETS = 20;

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
            <TicketEntries tickets={((run.data.params as { tickets?: number[] } | null)?.tickets ?? []).slice(0, MAX_TICKETS)} />
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

/** The entries of the run's tickets as the ledger holds them now (status, minutes, Kimai id). */
function TicketEntries({ tickets }: { tickets: number[] }) {
  const results = useQueries({ queries: tickets.map((t) => ({ queryKey: queryKeys.ticketEntries(t), queryFn: () => fetchTicketEntries(t) })) });
  if (tickets.length === 0) return null;
  if (results.some((r) => r.isPending)) return <LoadingState rows={2} />;
  const failed = results.find((r) => r.error);
  if (failed) {
    if (failed.error instanceof ApiError && failed.error.kind === "not_available") return null;
    return <ErrorState error={failed.error} what="The run's entries" />;
  }
  const entries = results.flatMap((r) => r.data ?? []);
  return (
    <div>
      <h4 className="mb-1 text-xs font-medium uppercase tracking-wide text-muted-foreground">Entries of these tickets</h4>
      {entries.length === 0 ? (
        <p className="text-muted-foreground">No time booked on these tickets.</p>
      ) : (
        <table className="w-full text-xs" aria-label="Entries of the run's tickets">
          <thead className="text-muted-foreground">
            <tr>
              <th className="py-1 text-left font-medium">Ticket</th>
              <th className="py-1 text-left font-medium">Entry</th>
              <th className="py-1 text-left font-medium">Day</th>
              <th className="py-1 text-right font-medium">Minutes</th>
              <th className="py-1 text-left font-medium pl-3">Status</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={`${e.ticketId}-${e.key}`} className="border-t">
                <td className="py-1">#{e.ticketId}</td>
                <td className="py-1 font-mono">{e.key.length > 18 ? `${e.key.slice(0, 18)}…` : e.key}</td>
                <td className="py-1">{e.day}</td>
                <td className="py-1 text-right tabular-nums">{e.minutes ?? "—"}</td>
                <td className="py-1 pl-3">
                  <Badge variant={e.status === "synced" ? "success" : e.status === "conflict" ? "warning" : "secondary"}>{e.status.replace(/_/g, " ")}</Badge>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
