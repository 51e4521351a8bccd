import { RotateCw } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/badge";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { EmptyState, ErrorState, LoadingState } from "@/components/QueryState";
import { ChangeError } from "@/components/FieldErrors";
import type { DeadLetter } from "@/api/operations";
import { useDeadLetters, useReplay } from "./api";

export function DeadLettersTab({ canEdit, active }: { canEdit: boolean; active: boolean }) {
  const query = useDeadLetters(active);
  const replay = useReplay();
  if (query.isPending) return <LoadingState />;
  if (query.error) return <ErrorState error={query.error} what="Dead letters" retry={() => query.refetch()} />;
  const { items, inQueues, truncated } = query.data;
  const listed = (queue: DeadLetter["queue"]) => items.filter((d) => d.queue === queue).length;
  const undescribed = Math.max(0, inQueues.ticketSync - listed("ticket-sync")) + Math.max(0, inQueues.kimaiWrite - listed("kimai-write"));
  const unlisted =
    undescribed > 0 ? (
      <p className="text-sm text-amber-800">
        {undescribed} more {undescribed === 1 ? "message is" : "messages are"} in the dead-letter queues without a description (the function stopped before it could say why). Replay all of a queue to send them back too.
      </p>
    ) : null;
  if (items.length === 0)
    return (
      <div className="space-y-3">
        {unlisted}
        <EmptyState title="No dead letters">Messages that failed every retry would wait here for a replay.</EmptyState>
      </div>
    );
  return (
    <div className="space-y-3">
      {truncated && <p className="text-sm text-amber-800">A queue holds more dead letters than are listed (200 per queue).</p>}
      {unlisted}
      {replay.error && <ChangeError error={replay.error} />}
      <div className="rounded-lg border">
        <Table aria-label="Dead letters">
          <TableHeader>
            <TableRow>
              <TableHead>Queue</TableHead>
              <TableHead>Ticket</TableHead>
              <TableHead>Kind</TableHead>
              <TableHead>Failed</TableHead>
              <TableHead>Message</TableHead>
              <TableHead className="text-right">Replay</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {items.map((d) => (
              <TableRow key={`${d.queue}-${d.messageId}`}>
                <TableCell>
                  <Badge variant="outline">{d.queue}</Badge>
                </TableCell>
                <TableCell className="tabular-nums">{d.ticketId !== null ? `#${d.ticketId}` : "—"}</TableCell>
                <TableCell>{d.kind || "—"}</TableCell>
                <TableCell className="text-xs" title={d.error}>
                  <div className="tabular-nums">{new Date(d.failedAt).toLocaleString()}</div>
                  <div className="max-w-64 truncate text-muted-foreground">{d.error}</div>
                </TableCell>
                <TableCell className="font-mono text-xs" title={d.body}>
                  <div className="max-w-96 truncate">{d.decodeError ? `undecodable: ${d.decodeError}` : d.body}</div>
                </TableCell>
                <TableCell className="text-right">
                  <Button size="sm" variant="outline" disabled={!canEdit || replay.isPending} onClick={() => replay.mutate({ queue: d.queue, messageId: d.messageId })}>
                    <RotateCw aria-hidden /> Replay
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </div>
    </div>
  );
}
