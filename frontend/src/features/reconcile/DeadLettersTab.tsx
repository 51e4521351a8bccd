import { RotateCw } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/badge";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { EmptyState, ErrorState, LoadingState } from "@/components/QueryState";
import { ChangeError } from "@/components/FieldErrors";
import { useDeadLetters, useReplay } from "./api";

export function DeadLettersTab({ canEdit, active }: { canEdit: boolean; active: boolean }) {
  const query = useDeadLetters(active);
  const replay = useReplay();
  if (query.isPending) return <LoadingState />;
  if (query.error) return <ErrorState error={query.error} what="Dead letters" retry={() => query.refetch()} />;
  if (query.data.items.length === 0) return <EmptyState title="No dead letters">Messages that failed every retry would wait here for a replay.</EmptyState>;
  return (
    <div className="space-y-3">
      {query.data.truncated && <p className="text-sm text-amber-800">A queue holds more dead letters than are listed (200 per queue).</p>}
      {replay.error && <ChangeError error={replay.error} />}
      <div className="rounded-lg border">
        <Table aria-label="Dead letters">
          <TableHeader>
            <TableRow>
              <TableHead>Queue</TableHead>
              <TableHead>Ticket</TableHead>
              <TableHead>Kind</TableHead>
              <TableHead>Message</TableHead>
              <TableHead className="text-right">Replay</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {query.data.items.map((d) => (
              <TableRow key={`${d.queue}-${d.messageId}`}>
                <TableCell>
                  <Badge variant="outline">{d.queue}</Badge>
                </TableCell>
                <TableCell className="tabular-nums">{d.ticketId !== null ? `#${d.ticketId}` : "—"}</TableCell>
                <TableCell>{d.kind || "—"}</TableCell>
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
