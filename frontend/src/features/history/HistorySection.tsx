import { useState } from "react";
import { Download } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { Section } from "@/components/Section";
import { EmptyState, ErrorState, LoadingState } from "@/components/QueryState";
import { ChangeError } from "@/components/FieldErrors";
import { Badge } from "@/components/ui/badge";
import { RunStateBadge } from "@/features/dashboard/RunState";
import { dayBoundary, formatDateTime } from "@/lib/format";
import { downloadCsv, useAudit, useRuns, type RunState } from "./api";
import { RunDetailDialog } from "./RunDetailDialog";

function useExport() {
  const [error, setError] = useState<unknown>(null);
  const run = (path: string, query: Record<string, string | number | undefined>, name: string) => {
    setError(null);
    downloadCsv(path, query, name).catch(setError);
  };
  return { error, run };
}

function RunsTab() {
  // "" is "any state"; the options are the API's states.
  const [state, setState] = useState<RunState | "">("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const filters = { state: state || undefined, from: dayBoundary(from), to: dayBoundary(to, true), limit: 100 };
  const runs = useRuns(filters, true);
  const [detail, setDetail] = useState<string | null>(null);
  const exporter = useExport();
  return (
    <div className="space-y-4">
      <div className="flex items-end gap-3" role="search" aria-label="Filter runs">
        <div className="w-44 space-y-1.5">
          <Label htmlFor="runs-state">State</Label>
          <NativeSelect id="runs-state" value={state} onChange={(e) => setState(e.target.value as RunState | "")}>
            <option value="">Any state</option>
            <option value="running">Running</option>
            <option value="succeeded">Succeeded</option>
            <option value="failed">Failed</option>
            <option value="cancelled">Cancelled</option>
          </NativeSelect>
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="runs-from">Started from</Label>
          <Input id="runs-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="runs-to">Started until</Label>
          <Input id="runs-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <Button variant="outline" className="ml-auto" onClick={() => exporter.run("/api/sync-runs/export.csv", { ...filters, limit: undefined }, "sync-runs.csv")}>
          <Download aria-hidden /> Export CSV
        </Button>
      </div>
      {exporter.error !== null && <ChangeError error={exporter.error} />}
      {runs.isPending ? (
        <LoadingState />
      ) : runs.error ? (
        <ErrorState error={runs.error} what="Runs" retry={() => runs.refetch()} />
      ) : runs.data.items.length === 0 ? (
        <EmptyState title="No runs match" />
      ) : (
        <div className="rounded-lg border">
          <Table aria-label="Sync runs">
            <TableHeader>
              <TableRow>
                <TableHead>Started</TableHead>
                <TableHead>Trigger</TableHead>
                <TableHead>State</TableHead>
                <TableHead className="text-right">Tickets</TableHead>
                <TableHead className="text-right">Created</TableHead>
                <TableHead className="text-right">Updated</TableHead>
                <TableHead className="text-right">Deleted</TableHead>
                <TableHead className="text-right">Conflicts</TableHead>
                <TableHead className="text-right">Failed</TableHead>
                <TableHead />
              </TableRow>
            </TableHeader>
            <TableBody>
              {runs.data.items.map((r) => (
                <TableRow key={r.id} data-testid="history-run">
                  <TableCell className="whitespace-nowrap">{formatDateTime(r.started_at)}</TableCell>
                  <TableCell>{r.trigger}</TableCell>
                  <TableCell>
                    <RunStateBadge state={r.state} />
                  </TableCell>
                  <TableCell className="text-right tabular-nums">
                    {r.counters.tickets_done}/{r.counters.tickets_queued}
                  </TableCell>
                  <TableCell className="text-right tabular-nums">{r.counters.created}</TableCell>
                  <TableCell className="text-right tabular-nums">{r.counters.updated}</TableCell>
                  <TableCell className="text-right tabular-nums">{r.counters.deleted}</TableCell>
                  <TableCell className="text-right tabular-nums">{r.counters.conflicts}</TableCell>
                  <TableCell className="text-right tabular-nums">{r.counters.failed}</TableCell>
                  <TableCell className="text-right">
                    <Button size="sm" variant="ghost" onClick={() => setDetail(r.id)}>
                      Details
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      <RunDetailDialog id={detail} onClose={() => setDetail(null)} />
    </div>
  );
}

function AuditTab() {
  const [f, setF] = useState({ action: "", actor: "", ip: "", from: "", to: "" });
  // The audit log filters by UTC day (`YYYY-MM-DD`), as the API takes it.
  const filters = { action: f.action || undefined, actor: f.actor || undefined, ip: f.ip || undefined, from: f.from || undefined, to: f.to || undefined, limit: 100 };
  const audit = useAudit(filters);
  const exporter = useExport();
  const set = (patch: Partial<typeof f>) => setF((x) => ({ ...x, ...patch }));
  return (
    <div className="space-y-4">
      <div className="grid grid-cols-[repeat(5,minmax(0,1fr))_auto] items-end gap-3" role="search" aria-label="Filter audit log">
        <div className="space-y-1.5">
          <Label htmlFor="audit-action">Action</Label>
          <Input id="audit-action" value={f.action} onChange={(e) => set({ action: e.target.value })} placeholder="e.g. mapping.set" />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="audit-actor">Actor</Label>
          <Input id="audit-actor" value={f.actor} onChange={(e) => set({ actor: e.target.value })} placeholder="user name" />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="audit-ip">IP</Label>
          <Input id="audit-ip" value={f.ip} onChange={(e) => set({ ip: e.target.value })} placeholder="127.0.0.1" />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="audit-from">From</Label>
          <Input id="audit-from" type="date" value={f.from} onChange={(e) => set({ from: e.target.value })} />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="audit-to">Until</Label>
          <Input id="audit-to" type="date" value={f.to} onChange={(e) => set({ to: e.target.value })} />
        </div>
        <Button variant="outline" onClick={() => exporter.run("/api/audit/export", { ...filters, limit: undefined }, "audit.csv")}>
          <Download aria-hidden /> Export CSV
        </Button>
      </div>
      {exporter.error !== null && <ChangeError error={exporter.error} />}
      {audit.isPending ? (
        <LoadingState />
      ) : audit.error ? (
        <ErrorState error={audit.error} what="The audit log" retry={() => audit.refetch()} />
      ) : audit.data.items.length === 0 ? (
        <EmptyState title="No audit events match" />
      ) : (
        <div className="rounded-lg border">
          <Table aria-label="Audit log">
            <TableHeader>
              <TableRow>
                <TableHead>At</TableHead>
                <TableHead>Kind</TableHead>
                <TableHead>Action</TableHead>
                <TableHead>Actor</TableHead>
                <TableHead>IP</TableHead>
                <TableHead>Detail</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {audit.data.items.map((a) => (
                <TableRow key={a.id} data-testid="audit-row">
                  <TableCell className="whitespace-nowrap">{formatDateTime(a.at)}</TableCell>
                  <TableCell>
                    <Badge variant="outline">{a.kind}</Badge>
                  </TableCell>
                  <TableCell className="font-mono text-xs">{a.action}</TableCell>
                  <TableCell>{a.actor ?? "—"}</TableCell>
                  <TableCell className="font-mono text-xs">{a.ip ?? "—"}</TableCell>
                  <TableCell className="font-mono text-xs text-muted-foreground" title={JSON.stringify(a.detail)}>
                    <div className="max-w-[22rem] truncate">{JSON.stringify(a.detail)}</div>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
    </div>
  );
}

export function HistorySection() {
  return (
    <Section id="history" title="History and audit" description="Every run and every change, with who made it and from where.">
      <Card>
        <CardContent>
          <Tabs defaultValue="runs">
            <TabsList aria-label="History lists">
              <TabsTrigger value="runs">Runs</TabsTrigger>
              <TabsTrigger value="audit">Audit log</TabsTrigger>
            </TabsList>
            <TabsContent value="runs">
              <RunsTab />
            </TabsContent>
            <TabsContent value="audit">
              <AuditTab />
            </TabsContent>
          </Tabs>
        </CardContent>
      </Card>
    </Section>
  );
}
