import { RotateCw } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { EmptyState, ErrorState, LoadingState } from "@/components/QueryState";
import { ChangeError } from "@/components/FieldErrors";
import { formatDateTime } from "@/lib/format";
import { useDeadLetters, useReplay } from "./api";

export function DeadLettersTab({ canEdit, active }: { canEdit: boolean; active: boolean }) {
  const query = useDeadLetters(active);
  const replay = useReplay();
  if (query.isPending) return <LoadingState />;
  if (query.error) return <ErrorState error={query.error} what="Dead letters" retry={() => query.refetch()} />;
  if (query.data.length === 0) return <EmptyState title="No dead letters">Messages that failed every retry would wait here for a replay.</EmptyState>;
  return (
    <div className="space-y-3">
      {replay.error && <ChangeError error={replay.error} />}
      <div className="rounded-lg border">
        <Table aria-label="Dead letters">
          <TableHeader>
            <TableRow>
              <TableHead>Queue</TableHead>
              <TableHead>Received</TableHead>
              <TableHead>Attempts</TableHead>
              <TableHead>Message</TableHead>
              <TableHead className="text-right">Replay</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {query.data.map((d) => (
              <TableRow key={d.id}>
                <TableCell>{d.queue}</TableCell>
                <TableCell className="whitespace-nowrap">{formatDateTime(d.receivedAt)}</TableCell>
                <TableCell>{d.attempts}</TableCell>
                <TableCell className="font-mono text-xs">
                  <div className="max-w-96 truncate">{d.summary}</div>
                </TableCell>
                <TableCell className="text-right">
                  <Button size="sm" variant="outline" disabled={!canEdit || replay.isPending} onClick={() => replay.mutate({ queue: d.queue, ids: [d.id] })}>
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
