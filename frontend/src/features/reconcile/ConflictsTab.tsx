import { useMemo, useState } from "react";
import { ExternalLink, Loader2, PanelRightOpen, Wrench } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/badge";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { SearchPicker } from "@/components/SearchPicker";
import { useKimaiConnection, useZammadConnection } from "@/features/connections/api";
import { KIMAI_PICKER, useKimaiPicker, useSetMapping } from "@/features/mappings/api";
import { useStartRun } from "@/features/sync-now/api";
import { EmptyState, ErrorState, LoadingState } from "@/components/QueryState";
import { ChangeError } from "@/components/FieldErrors";
import { formatDateTime } from "@/lib/format";
import { ACTION_LABELS, REASON_LABELS, actionsFor, bulkActionsFor, type ResolveAction } from "./actions";
import { useConflicts, useResolveMany, useResolveOne, type ConflictRecord } from "./api";
import { DiffView } from "./DiffView";
import { fixedBy, mappingFix, type MappingFix } from "./fix";
import { kimaiTimesheetUrl, zammadTicketUrl } from "./links";

interface Filters {
  reason: string;
  ticket: string;
  agent: string;
  customer: string;
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { reason: "", ticket: "", agent: "", customer: "", from: "", to: "" };

/** Agent, customer, ticket number and date are filtered here (the API filters by reason). */
export function matchesLocal(c: ConflictRecord, f: Filters): boolean {
  const s = c.conflict.subject;
  const agent = s?.agent_id ?? c.conflict.desired?.agent_id;
  if (f.agent && String(agent ?? "") !== f.agent) return false;
  if (f.customer && String(s?.organisation_id ?? "") !== f.customer) return false;
  const ticket = f.ticket.trim().replace(/^#/, "");
  if (ticket && s?.ticket_number !== ticket && String(c.conflict.ticket_id) !== ticket) return false;
  const day = c.opened_at.slice(0, 10);
  if (f.from && day < f.from) return false;
  if (f.to && day > f.to) return false;
  return true;
}

/** The agents and customers the open conflicts name, for the filters' pickers. */
function choices(items: ConflictRecord[]) {
  const agents = new Map<string, string>();
  const customers = new Map<string, string>();
  for (const c of items) {
    const s = c.conflict.subject;
    if (s) agents.set(String(s.agent_id), s.agent_email ? `${s.agent_name} <${s.agent_email}>` : s.agent_name);
    else if (c.conflict.desired) agents.set(String(c.conflict.desired.agent_id), `agent ${c.conflict.desired.agent_id}`);
    if (s?.organisation_id != null) customers.set(String(s.organisation_id), s.organisation_name ?? `organisation ${s.organisation_id}`);
  }
  const sorted = (m: Map<string, string>) => [...m.entries()].map(([value, label]) => ({ value, label })).sort((a, b) => a.label.localeCompare(b.label));
  return { agents: sorted(agents), customers: sorted(customers) };
}

/** Where a conflict's ticket and timesheet live, from the connections (none when unreadable). */
function useLinks() {
  const zammad = useZammadConnection();
  const kimai = useKimaiConnection();
  const zBase = (zammad.data as { base_url?: string } | undefined)?.base_url;
  const kBase = (kimai.data as { base_url?: string | null } | undefined)?.base_url;
  return {
    ticket: (id: number) => zammadTicketUrl(zBase, id),
    timesheet: (c: ConflictRecord) => kimaiTimesheetUrl(kBase, c.conflict.kimai?.id ?? c.conflict.base?.kimai_id),
  };
}

/** "Map …": the mapping an unmapped conflict asks for, saved, then the tickets it fixes synced again. */
function MapInPlace({ fix, conflict, open, canEdit }: { fix: MappingFix; conflict: ConflictRecord; open: ConflictRecord[]; canEdit: boolean }) {
  const [editing, setEditing] = useState(false);
  const [kimai, setKimai] = useState<string | null>(null);
  const options = useKimaiPicker(KIMAI_PICKER[fix.kind], editing);
  const setMapping = useSetMapping();
  const startRun = useStartRun();
  const [done, setDone] = useState<string | null>(null);
  const fixed = fixedBy(fix, conflict.conflict.reason, open);
  const busy = setMapping.isPending || startRun.isPending;
  if (done) {
    return (
      <span role="status" className="text-xs text-emerald-700">
        {done}
      </span>
    );
  }
  if (!editing) {
    return (
      <Button size="sm" variant="outline" disabled={!canEdit} onClick={() => setEditing(true)} title={`Map ${fix.what} in Kimai`}>
        <Wrench aria-hidden /> Map…
      </Button>
    );
  }
  const pickerOptions = (options.data ?? []).map((o) => ({ value: String(o.id), label: o.name, hint: `#${o.id}`, muted: !o.visible }));
  return (
    <div className="flex items-center gap-1.5" role="group" aria-label={`Map ${fix.what}`}>
      <div className="w-44">
        <SearchPicker id={`fix-${conflict.id}`} value={kimai} options={pickerOptions} onChange={setKimai} loading={options.isPending} placeholder={`Kimai ${fix.kind}…`} />
      </div>
      <Button
        size="sm"
        disabled={!kimai || busy}
        onClick={() =>
          setMapping.mutate(
            { kind: fix.kind, zammad: fix.zammad, kimai: Number(kimai) },
            {
              onSuccess: () =>
                startRun.mutate(
                  { tickets: fixed.tickets, dry_run: false },
                  { onSuccess: () => setDone(`Mapped. Re-syncing ${fixed.tickets.length} ticket${fixed.tickets.length === 1 ? "" : "s"}, which closes ${fixed.conflicts.length} conflict${fixed.conflicts.length === 1 ? "" : "s"}.`) },
                ),
            },
          )
        }
      >
        {busy && <Loader2 className="animate-spin" aria-hidden />} Map and re-sync {fixed.tickets.length}
      </Button>
      <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
        Cancel
      </Button>
      {(setMapping.error ?? startRun.error) && <ChangeError error={setMapping.error ?? startRun.error} />}
    </div>
  );
}

/** The side-by-side view and the whole story of one conflict, beside the table. */
function ConflictDrawer({ conflict, onClose, links }: { conflict: ConflictRecord | null; onClose: () => void; links: ReturnType<typeof useLinks> }) {
  const c = conflict;
  const s = c?.conflict.subject;
  const ticketUrl = c ? links.ticket(c.conflict.ticket_id) : null;
  const sheetUrl = c ? links.timesheet(c) : null;
  return (
    <Dialog open={c !== null} onOpenChange={(o) => !o && onClose()}>
      <DialogContent className="top-0 right-0 left-auto h-screen max-h-screen max-w-2xl translate-x-0 translate-y-0 content-start rounded-none">
        {c && (
          <>
            <DialogHeader>
              <DialogTitle>
                {REASON_LABELS[c.conflict.reason] ?? c.conflict.reason} on ticket {s ? `#${s.ticket_number}` : `id ${c.conflict.ticket_id}`}
              </DialogTitle>
              <DialogDescription>{s ? `${s.ticket_title} · ${s.agent_name}${s.agent_email ? ` <${s.agent_email}>` : ""}` : `opened ${formatDateTime(c.opened_at)}`}</DialogDescription>
            </DialogHeader>
            <div className="flex flex-wrap gap-3 text-sm">
              {ticketUrl && (
                <a href={ticketUrl} target="_blank" rel="noreferrer" className="inline-flex items-center gap-1 underline underline-offset-2">
                  Zammad ticket <ExternalLink className="size-3.5" aria-hidden />
                </a>
              )}
              {sheetUrl && (
                <a href={sheetUrl} target="_blank" rel="noreferrer" className="inline-flex items-center gap-1 underline underline-offset-2">
                  Kimai timesheet <ExternalLink className="size-3.5" aria-hidden />
                </a>
              )}
            </div>
            <p className="text-sm text-muted-foreground" data-testid="drawer-detail">
              {c.conflict.detail}
            </p>
            <DiffView desired={c.conflict.desired} kimai={c.conflict.kimai} detail={c.conflict.detail} />
          </>
        )}
      </DialogContent>
    </Dialog>
  );
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
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const query = useConflicts({ status: "open", reason: filters.reason || undefined });
  const links = useLinks();
  const all = useMemo(() => query.data?.items ?? [], [query.data]);
  const pickers = useMemo(() => choices(all), [all]);
  const resolveOne = useResolveOne();
  const resolveMany = useResolveMany();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState<string | null>(null);
  const [bulkAction, setBulkAction] = useState<string>("");
  const [lastBulk, setLastBulk] = useState<string | null>(null);

  const rows = useMemo(() => all.filter((c) => matchesLocal(c, filters)), [all, filters]);
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
      <div className="grid grid-cols-3 gap-3 xl:grid-cols-6" role="search" aria-label="Filter conflicts">
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
          <Label htmlFor="cf-agent">Agent</Label>
          <SearchPicker id="cf-agent" value={filters.agent || null} options={[{ value: "", label: "Any agent" }, ...pickers.agents]} onChange={(v) => set({ agent: v ?? "" })} placeholder="Any agent" />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="cf-customer">Customer</Label>
          <SearchPicker id="cf-customer" value={filters.customer || null} options={[{ value: "", label: "Any customer" }, ...pickers.customers]} onChange={(v) => set({ customer: v ?? "" })} placeholder="Any customer" />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="cf-ticket">Ticket number</Label>
          <Input id="cf-ticket" value={filters.ticket} onChange={(e) => set({ ticket: e.target.value })} placeholder="any" />
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
          <Table aria-label="Open conflicts" className="table-fixed">
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
                <TableHead className="w-36">Reason</TableHead>
                <TableHead>Ticket</TableHead>
                <TableHead>Agent</TableHead>
                <TableHead className="hidden w-28 2xl:table-cell">Opened</TableHead>
                <TableHead className="w-80 text-right">Resolve</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {rows.map((c) => {
                const s = c.conflict.subject;
                const ticketUrl = links.ticket(c.conflict.ticket_id);
                const agentId = s?.agent_id ?? c.conflict.desired?.agent_id;
                const fix = mappingFix(c);
                return (
                  <TableRow key={c.id} data-state={selected.has(c.id) ? "selected" : undefined} data-testid="conflict-row" data-conflict-id={c.id} data-agent-id={agentId}>
                    <TableCell>
                      <Checkbox
                        aria-label={`Select conflict on ticket ${c.conflict.ticket_id}`}
                        checked={selected.has(c.id)}
                        disabled={!canEdit}
                        onCheckedChange={(v) =>
                          setSelected((sel) => {
                            const n = new Set(sel);
                            if (v === true) n.add(c.id);
                            else n.delete(c.id);
                            return n;
                          })
                        }
                      />
                    </TableCell>
                    <TableCell>
                      <Badge variant="warning" className="max-w-full truncate" title={c.conflict.detail}>
                        {REASON_LABELS[c.conflict.reason] ?? c.conflict.reason}
                      </Badge>
                    </TableCell>
                    <TableCell className="min-w-0">
                      <div className="truncate">
                        {ticketUrl ? (
                          <a href={ticketUrl} target="_blank" rel="noreferrer" className="font-medium tabular-nums underline-offset-2 hover:underline">
                            #{s?.ticket_number ?? c.conflict.ticket_id}
                          </a>
                        ) : (
                          <span className="font-medium tabular-nums">#{s?.ticket_number ?? c.conflict.ticket_id}</span>
                        )}
                      </div>
                      {s?.ticket_title && (
                        <div className="truncate text-xs text-muted-foreground" title={s.ticket_title}>
                          {s.ticket_title}
                        </div>
                      )}
                    </TableCell>
                    <TableCell className="min-w-0">
                      <div className="truncate" title={s?.agent_email ?? undefined}>
                        {s ? s.agent_name : agentId !== undefined ? `agent ${agentId}` : "—"}
                      </div>
                      {s?.agent_email && <div className="truncate text-xs text-muted-foreground">{s.agent_email}</div>}
                    </TableCell>
                    <TableCell className="hidden whitespace-nowrap text-muted-foreground 2xl:table-cell">{formatDateTime(c.opened_at)}</TableCell>
                    <TableCell>
                      <div className="flex flex-wrap items-center justify-end gap-1.5">
                        {fix && <MapInPlace fix={fix} conflict={c} open={all} canEdit={canEdit} />}
                        <RowActions conflict={c} canEdit={canEdit} busy={resolveOne.isPending} onResolve={(action, kimaiId) => resolveOne.mutate({ id: c.id, action, kimaiId })} />
                        <Button variant="ghost" size="icon" className="size-8" aria-label="Details and comparison" title="Details and comparison" onClick={() => setShown(c.id)}>
                          <PanelRightOpen aria-hidden />
                        </Button>
                      </div>
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </div>
      )}
      <ConflictDrawer conflict={all.find((c) => c.id === shown) ?? null} onClose={() => setShown(null)} links={links} />
    </div>
  );
}
