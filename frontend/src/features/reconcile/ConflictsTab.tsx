import { Fragment, useMemo, useState } from "react";
import { ChevronDown, ChevronRight, Loader2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/badge";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { EmptyState, ErrorState, LoadingState } from "@/components/QueryState";
import { ChangeError } from "@/components/FieldErrors";
import { formatDateTime } from "@/lib/format";
import { ACTION_LABELS, REASON_LABELS, actionsFor, bulkActionsFor, type ResolveAction } from "./actions";
import { useConflicts, useResolveMany, useResolveOne, type ConflictRecord } from "./api";
import { DiffView } from "./DiffView";

interface Filters {
  reason: string;
  ticket: string;
  agent: string;
  from: string;
  to: string;
}

/** Agent and date are filtered here (the API filters by reason and ticket). */
export function matchesLocal(c: ConflictRecord, f: Filters): boolean {
  const agent = c.conflict.desired?.agent_id;
  if (f.agent && String(agent ?? "") !== f.agent.trim()) return false;
  const day = c.opened_at.slice(0, 10);
  if (f.from && day < f.from) return false;
  if (f.to && day > f.to) return false;
  return true;
}

function RowActions({ conflict, canEdit, onResolve, busy }: { conflict: ConflictRecord; canEdit: boolean; onResolve: (action: ResolveAction, kimaiId?: number) => void; busy: boolean }) {
  const actions = actionsFor(conflict.conflict.reason);
  const [candidate, setCandidate] = useState<string>(String(conflict.conflict.candidates[0] ?? ""));
  return (
    <div className="flex flex-wrap justify-end gap-1.5">
      {actions.map((a) =>
        a === "link" ? (
          <span key={a} className="flex items-center gap-1">
            <NativeSelect aria-label="Timesheet to link" className="h-8 w-28 text-xs" value={candidate} onChange={(e) => setCandidate(e.target.value)} disabled={!canEdit || conflict.conflict.candidates.length === 0}>
              {conflict.conflict.candidates.map((id) => (
                <option key={id} value={id}>
                  #{id}
                </option>
              ))}
            </NativeSelect>
            <Button size="sm" variant="outline" disabled={!canEdit || busy || !candidate} onClick={() => onResolve("link", Number(candidate))}>
              {ACTION_LABELS.link}
            </Button>
          </span>
        ) : (
          <Button key={a} size="sm" variant={a === "ignore" ? "ghost" : "outline"} disabled={!canEdit || busy} onClick={() => onResolve(a)}>
            {ACTION_LABELS[a]}
          </Button>
        ),
      )}
    </div>
  );
}

export function ConflictsTab({ canEdit }: { canEdit: boolean }) {
  const [filters, setFilters] = useState<Filters>({ reason: "", ticket: "", agent: "", from: "", to: "" });
  const ticket = /^\d+$/.test(filters.ticket.trim()) ? Number(filters.ticket.trim()) : undefined;
  const query = useConflicts({ status: "open", reason: filters.reason || undefined, ticket });
  const resolveOne = useResolveOne();
  const resolveMany = useResolveMany();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [expanded, setExpanded] = useState<string | null>(null);
  const [bulkAction, setBulkAction] = useState<string>("");
  const [lastBulk, setLastBulk] = useState<string | null>(null);

  const rows = useMemo(() => (query.data?.items ?? []).filter((c) => matchesLocal(c, filters)), [query.data, filters]);
  const chosen = rows.filter((c) => selected.has(c.id));
  const bulkActions = bulkActionsFor(chosen.map((c) => c.conflict.reason));
  const allChecked = rows.length > 0 && chosen.length === rows.length ? true : chosen.length > 0 ? "indeterminate" : false;
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  function applyBulk() {
    const action = bulkAction as ResolveAction;
    const ids = chosen.map((c) => c.id);
    resolveMany.mutate(
      { ids, action },
      {
        onSuccess: (out) => {
          setSelected(new Set());
          setBulkAction("");
          const notDone = out.items.filter((i) => i.outcome !== "resolved").length;
          setLastBulk(`${out.resolved} resolved${notDone ? `, ${notDone} not (already resolved or not applicable)` : ""}.`);
        },
      },
    );
  }

  return (
    <div className="space-y-4">
      <div className="grid grid-cols-5 gap-3" role="search" aria-label="Filter conflicts">
        <div className="space-y-1.5">
          <Label htmlFor="cf-reason">Reason</Label>
          <NativeSelect id="cf-reason" value={filters.reason} onChange={(e) => set({ reason: e.target.value })}>
            <option value="">All reasons</option>
            {Object.entries(REASON_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="cf-agent">Agent id</Label>
          <Input id="cf-agent" inputMode="numeric" value={filters.agent} onChange={(e) => set({ agent: e.target.value })} placeholder="any" />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="cf-ticket">Ticket id</Label>
          <Input id="cf-ticket" inputMode="numeric" value={filters.ticket} onChange={(e) => set({ ticket: e.target.value })} placeholder="any" />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="cf-from">Opened from</Label>
          <Input id="cf-from" type="date" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="cf-to">Opened until</Label>
          <Input id="cf-to" type="date" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
        </div>
      </div>

      {chosen.length > 0 && (
        <div className="flex items-center gap-3 rounded-lg border bg-muted/40 px-3 py-2" role="region" aria-label="Bulk actions">
          <span className="text-sm font-medium" data-testid="selected-count">
            {chosen.length} selected
          </span>
          <NativeSelect aria-label="Action for the selected conflicts" className="w-56" value={bulkAction} onChange={(e) => setBulkAction(e.target.value)} disabled={!canEdit}>
            <option value="">{bulkActions.length ? "Choose an action…" : "No action fits all selected"}</option>
            {bulkActions.map((a) => (
              <option key={a} value={a}>
                {ACTION_LABELS[a]}
              </option>
            ))}
          </NativeSelect>
          <Button size="sm" onClick={applyBulk} disabled={!canEdit || !bulkAction || resolveMany.isPending}>
            {resolveMany.isPending && <Loader2 className="animate-spin" aria-hidden />} Apply to {chosen.length}
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setSelected(new Set())}>
            Clear
          </Button>
        </div>
      )}
      {lastBulk && (
        <p role="status" className="text-sm text-emerald-700">
          {lastBulk}
        </p>
      )}
      {resolveOne.error && <ChangeError error={resolveOne.error} />}
      {resolveMany.error && <ChangeError error={resolveMany.error} />}

      {query.isPending ? (
        <LoadingState rows={4} />
      ) : query.error ? (
        <ErrorState error={query.error} what="Conflicts" retry={() => query.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title="No open conflicts">{query.data.items.length > 0 ? "None match these filters." : "Everything the sync could not decide would show up here."}</EmptyState>
      ) : (
        <div className="rounded-lg border">
          <Table aria-label="Open conflicts">
            <TableHeader>
              <TableRow>
                <TableHead className="w-10">
                  <Checkbox
                    aria-label="Select all conflicts shown"
                    checked={allChecked}
                    onCheckedChange={(v) => setSelected(v === true ? new Set(rows.map((c) => c.id)) : new Set())}
                    disabled={!canEdit}
                  />
                </TableHead>
                <TableHead className="w-8" />
                <TableHead>Reason</TableHead>
                <TableHead>Ticket</TableHead>
                <TableHead>Agent</TableHead>
                <TableHead>Opened</TableHead>
                <TableHead>Detail</TableHead>
                <TableHead className="text-right">Resolve</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {rows.map((c) => {
                const open = expanded === c.id;
                return (
                  <Fragment key={c.id}>
                    <TableRow data-state={selected.has(c.id) ? "selected" : undefined} data-testid="conflict-row" data-conflict-id={c.id}>
                      <TableCell>
                        <Checkbox
                          aria-label={`Select conflict on ticket ${c.conflict.ticket_id}`}
                          checked={selected.has(c.id)}
                          disabled={!canEdit}
                          onCheckedChange={(v) =>
                            setSelected((s) => {
                              const n = new Set(s);
                              if (v === true) n.add(c.id);
                              else n.delete(c.id);
                              return n;
                            })
                          }
                        />
                      </TableCell>
                      <TableCell>
                        <Button variant="ghost" size="icon" className="size-7" aria-expanded={open} aria-label={open ? "Hide comparison" : "Compare Zammad and Kimai"} onClick={() => setExpanded(open ? null : c.id)}>
                          {open ? <ChevronDown aria-hidden /> : <ChevronRight aria-hidden />}
                        </Button>
                      </TableCell>
                      <TableCell>
                        <Badge variant="warning">{REASON_LABELS[c.conflict.reason] ?? c.conflict.reason}</Badge>
                      </TableCell>
                      <TableCell className="tabular-nums">#{c.conflict.ticket_id}</TableCell>
                      <TableCell className="tabular-nums">{c.conflict.desired?.agent_id ?? "—"}</TableCell>
                      <TableCell className="whitespace-nowrap text-muted-foreground">{formatDateTime(c.opened_at)}</TableCell>
                      <TableCell className="text-muted-foreground" title={c.conflict.detail}>
                        <div className="max-w-64 truncate">{c.conflict.detail}</div>
                      </TableCell>
                      <TableCell>
                        <RowActions conflict={c} canEdit={canEdit} busy={resolveOne.isPending} onResolve={(action, kimaiId) => resolveOne.mutate({ id: c.id, action, kimaiId })} />
                      </TableCell>
                    </TableRow>
                    {open && (
                      <TableRow className="bg-muted/20 hover:bg-muted/20">
                        <TableCell />
                        <TableCell colSpan={7} className="pb-4">
                          <DiffView desired={c.conflict.desired} kimai={c.conflict.kimai} detail={c.conflict.detail} />
                        </TableCell>
                      </TableRow>
                    )}
                  </Fragment>
                );
              })}
            </TableBody>
          </Table>
        </div>
      )}
    </div>
  );
}
