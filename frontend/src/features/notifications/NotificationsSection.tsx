import { useEffect, useState } from "react";
import { BellRing, Loader2, Send } from "lucide-react";
import { Section } from "@/components/Section";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Switch } from "@/components/ui/switch";
import { ChangeError, fieldError } from "@/components/FieldErrors";
import { ErrorState, LoadingState } from "@/components/QueryState";
import { useCanEdit } from "@/features/auth/useSession";
import { formatDateTime } from "@/lib/format";
import { useLocalDeliveries, useNotifications, useSaveNotifications, useSendTestEvent, type NotificationsView } from "./api";

function initialForm(view: NotificationsView) {
  return {
    threshold: String(view.backlog_threshold),
    muted: view.types.filter((t) => !t.notified).map((t) => t.detail_type),
  };
}

/** Which events people hear of (by e-mail and in the chat), each on or off, and the backlog threshold. */
function SettingsForm({ view }: { view: NotificationsView }) {
  const canEdit = useCanEdit();
  const save = useSaveNotifications();
  const [form, setForm] = useState(() => initialForm(view));
  useEffect(() => setForm(initialForm(view)), [view]);
  const threshold = Number(form.threshold);
  const badThreshold = !/^\d+$/.test(form.threshold) || threshold > 100_000;
  const toggle = (type: string, on: boolean) => setForm((f) => ({ ...f, muted: on ? f.muted.filter((m) => m !== type) : [...f.muted, type] }));
  return (
    <form
      aria-label="Notification settings"
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        if (badThreshold) return;
        save.mutate({ version: view.version, input: { backlog_threshold: threshold, muted: form.muted } });
      }}
    >
      <ul className="divide-y rounded-lg border">
        {view.types.map((t) => {
          const on = !form.muted.includes(t.detail_type);
          const id = `notify-${t.detail_type.replace(/\s+/g, "-").toLowerCase()}`;
          return (
            <li key={t.detail_type} className="flex items-center justify-between gap-4 px-4 py-3">
              <div className="min-w-0">
                <Label htmlFor={id} className="font-medium">
                  {t.detail_type}
                </Label>
                <p className="text-sm text-muted-foreground">{t.description}</p>
              </div>
              <Switch id={id} checked={on} onCheckedChange={(v) => toggle(t.detail_type, v)} disabled={!canEdit || !t.can_mute} aria-label={`Tell people: ${t.detail_type}`} />
            </li>
          );
        })}
      </ul>
      <div className="space-y-1.5">
        <Label htmlFor="backlog-threshold">Tell people when the open conflicts reach</Label>
        <Input id="backlog-threshold" inputMode="numeric" className="w-32" value={form.threshold} onChange={(e) => setForm((f) => ({ ...f, threshold: e.target.value }))} disabled={!canEdit} aria-invalid={badThreshold} />
        <p className="text-xs text-muted-foreground">0 turns this off.</p>
        {badThreshold && <p className="text-xs text-red-700">A whole number from 0 to 100,000.</p>}
        {fieldError(save.error, "backlog_threshold") && <p className="text-xs text-red-700">{fieldError(save.error, "backlog_threshold")}</p>}
      </div>
      <div className="flex flex-wrap items-center gap-4">
        <Button type="submit" disabled={!canEdit || save.isPending || badThreshold}>
          {save.isPending && <Loader2 className="animate-spin" aria-hidden />} Save notifications
        </Button>
        {save.isSuccess && !save.isPending && (
          <span className="text-sm text-emerald-700" role="status">
            Saved. The functions follow within a minute.
          </span>
        )}
      </div>
      {save.error && <ChangeError error={save.error} />}
    </form>
  );
}

function TestEvent() {
  const canEdit = useCanEdit();
  const send = useSendTestEvent();
  return (
    <div className="space-y-2">
      <Button variant="outline" onClick={() => send.mutate()} disabled={!canEdit || send.isPending}>
        {send.isPending ? <Loader2 className="animate-spin" aria-hidden /> : <Send aria-hidden />} Send a test event
      </Button>
      {send.data && (
        <p className="text-sm text-emerald-700" role="status">
          Sent: “{send.data.summary}”
        </p>
      )}
      {send.error && <ChangeError error={send.error} />}
    </div>
  );
}

/** The chat payloads the local stack's receiver got; on AWS they are in the chat itself. */
function LastDeliveries() {
  const deliveries = useLocalDeliveries();
  if (deliveries.isPending) return <LoadingState rows={2} />;
  if (!deliveries.data)
    return <p className="text-sm text-muted-foreground">Deliveries go to the e-mail subscription and the chat webhook set when the stack was deployed; look for them there.</p>;
  if (deliveries.data.length === 0) return <p className="text-sm text-muted-foreground">The local chat receiver has received nothing yet.</p>;
  return (
    <ol className="max-h-72 space-y-2 overflow-y-auto" aria-label="Last chat deliveries">
      {deliveries.data.slice(0, 20).map((d, i) => (
        <li key={`${d.received_at}-${i}`} className="rounded-md border bg-muted/20 px-3 py-2 text-sm">
          <div className="text-xs text-muted-foreground tabular-nums">{d.received_at ? formatDateTime(d.received_at) : "—"}</div>
          <div className="break-words">{d.text}</div>
        </li>
      ))}
    </ol>
  );
}

export function NotificationsSection() {
  const query = useNotifications();
  return (
    <Section id="notifications" title="Notifications" description="What people are told by e-mail and in the chat, without opening the console.">
      <div className="grid gap-6 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div>{query.isPending ? <LoadingState rows={6} /> : query.error ? <ErrorState error={query.error} what="The notification settings" retry={() => query.refetch()} /> : <SettingsForm view={query.data} />}</div>
        <Card>
          <CardHeader>
            <CardTitle className="flex items-center gap-2 text-base">
              <BellRing className="size-4" aria-hidden /> Check the delivery
            </CardTitle>
          </CardHeader>
          <CardContent className="space-y-4">
            <TestEvent />
            <div>
              <div className="mb-1.5 text-xs font-medium uppercase tracking-wide text-muted-foreground">Last deliveries</div>
              <LastDeliveries />
            </div>
          </CardContent>
        </Card>
      </div>
    </Section>
  );
}
