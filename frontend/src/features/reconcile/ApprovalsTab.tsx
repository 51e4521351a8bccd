import { useState } from "react";
import { Loader2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { EmptyState, ErrorState, LoadingState } from "@/components/QueryState";
import { ChangeError } from "@/components/FieldErrors";
import { formatDuration, wallClock } from "./diff";
import { useApprove, useAwaitingApproval } from "./api";

export function ApprovalsTab({ canEdit, active }: { canEdit: boolean; active: boolean }) {
  const query = useAwaitingApproval(active);
  const approve = useApprove();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  if (query.isPending) return <LoadingState />;
  if (query.error) return <ErrorState error={query.error} what="The approval queue" retry={() => query.refetch()} />;
  const rows = query.data;
  if (rows.length === 0) return <EmptyState title="Nothing awaits approval">With approval mode on, new timesheets wait here before they are written.</EmptyState>;
  const id = (e: (typeof rows)[number]) => `${e.ticketId}|${e.key}`;
  const chosen = rows.filter((e) => selected.has(id(e)));
  return (
    <div className="space-y-3">
      <div className="flex items-center gap-3">
        <Button size="sm" disabled={!canEdit || chosen.length === 0 || approve.isPending} onClick={() => approve.mutate(chosen, { onSuccess: () => setSelected(new Set()) })}>
          {approve.isPending && <Loader2 className="animate-spin" aria-hidden />} Approve {chosen.length || ""}
        </Button>
        {approve.data && (
          <span role="status" className="text-sm text-muted-foreground">
            {approve.data.approved} approved
            {approve.data.notApproved.length > 0 && `; not approved: ${approve.data.notApproved.map((n) => `${n.key} (${n.outcome.replace(/_/g, " ")})`).join(", ")}`}
          </span>
        )}
        {approve.error && <ChangeError error={approve.error} />}
      </div>
      <div className="rounded-lg border">
        <Table aria-label="Timesheets awaiting approval">
          <TableHeader>
            <TableRow>
              <TableHead className="w-10">
                <Checkbox aria-label="Select all" checked={chosen.length === rows.length} onCheckedChange={(v) => setSelected(v === true ? new Set(rows.map(id)) : new Set())} disabled={!canEdit} />
              </TableHead>
              <TableHead>Ticket</TableHead>
              <TableHead>Agent</TableHead>
              <TableHead>Begin</TableHead>
              <TableHead>End</TableHead>
              <TableHead>Duration</TableHead>
              <TableHead>Description</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.map((e) => (
              <TableRow key={id(e)}>
                <TableCell>
                  <Checkbox
                    aria-label={`Select entry of ticket ${e.ticketId}`}
                    checked={selected.has(id(e))}
                    disabled={!canEdit}
                    onCheckedChange={(v) => setSelected((s) => { const n = new Set(s); if (v === true) n.add(id(e)); else n.delete(id(e)); return n; })}
                  />
                </TableCell>
                <TableCell>#{e.ticketId}</TableCell>
                <TableCell>{e.agent}</TableCell>
                <TableCell>{wallClock(e.begin)}</TableCell>
                <TableCell>{wallClock(e.end)}</TableCell>
                <TableCell>{e.minutes === null ? "—" : formatDuration(e.minutes * 60)}</TableCell>
                <TableCell className="text-muted-foreground">
                  <div className="max-w-72 truncate">{e.description}</div>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </div>
    </div>
  );
}
