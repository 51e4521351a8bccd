import { useEffect, useMemo, useState } from "react";
import { Loader2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { Switch } from "@/components/ui/switch";
import { ChangeError, fieldError } from "@/components/FieldErrors";
import { ErrorState, LoadingState } from "@/components/QueryState";
import { useCanEdit } from "@/features/auth/useSession";
import { cn } from "@/lib/utils";
import { useSaveSchedule, useSchedule, type ScheduleView } from "./api";
import { checkCron, DEFAULT_FORM, fromCron, fromEventBridge, PRESET_LABELS, toCron, WEEKDAYS, type PresetKind, type ScheduleForm } from "./cron";
import { formatInZone } from "./zones";
import { ZonePicker } from "./ZonePicker";


function pad(n: number) {
  return String(n).padStart(2, "0");
}

/** Presets, weekday chips and the custom cron; reports the cron text it stands for. */
export function CronEditor({ form, onChange, disabled }: { form: ScheduleForm; onChange: (f: ScheduleForm) => void; disabled?: boolean }) {
  const set = (patch: Partial<ScheduleForm>) => onChange({ ...form, ...patch });
  const needsTime = form.kind === "daily" || form.kind === "weekly" || form.kind === "monthly";
  return (
    <div className="space-y-3">
      <div role="radiogroup" aria-label="Frequency" className="flex flex-wrap gap-1.5">
        {(Object.keys(PRESET_LABELS) as PresetKind[]).map((kind) => (
          <button
            key={kind}
            type="button"
            role="radio"
            aria-checked={form.kind === kind}
            disabled={disabled}
            onClick={() => set({ kind, custom: kind === "custom" && !form.custom ? toCron(form) : form.custom })}
            className={cn(
              "rounded-md border px-3 py-1.5 text-sm outline-none transition-colors focus-visible:ring-[3px] focus-visible:ring-ring/50 disabled:opacity-50",
              form.kind === kind ? "border-primary bg-primary text-primary-foreground" : "bg-card hover:bg-accent",
            )}
          >
            {PRESET_LABELS[kind]}
          </button>
        ))}
      </div>
      {form.kind === "custom" ? (
        <div className="space-y-1.5">
          <Label htmlFor="cron-custom">Cron expression</Label>
          <Input id="cron-custom" className="font-mono" value={form.custom} onChange={(e) => set({ custom: e.target.value })} placeholder="minute hour day month weekday, e.g. 30 7 * * 1-5" disabled={disabled} />
        </div>
      ) : (
        <div className="flex flex-wrap items-end gap-3">
          {needsTime ? (
            <div className="space-y-1.5">
              <Label htmlFor="cron-time">At</Label>
              <Input
                id="cron-time"
                type="time"
                className="w-32"
                value={`${pad(form.hour)}:${pad(form.minute)}`}
                onChange={(e) => {
                  const [h, m] = e.target.value.split(":").map(Number);
                  if (!Number.isNaN(h) && !Number.isNaN(m)) set({ hour: h, minute: m });
                }}
                disabled={disabled}
              />
            </div>
          ) : (
            <div className="space-y-1.5">
              <Label htmlFor="cron-minute">At minute</Label>
              <Input id="cron-minute" type="number" min={0} max={59} className="w-24" value={form.minute} onChange={(e) => set({ minute: Math.max(0, Math.min(59, Number(e.target.value) || 0)) })} disabled={disabled} />
            </div>
          )}
          {form.kind === "monthly" && (
            <div className="space-y-1.5">
              <Label htmlFor="cron-dom">Day of month</Label>
              <Input id="cron-dom" type="number" min={1} max={28} className="w-24" value={form.dayOfMonth} onChange={(e) => set({ dayOfMonth: Math.max(1, Math.min(28, Number(e.target.value) || 1)) })} disabled={disabled} />
            </div>
          )}
          {form.kind === "weekly" && (
            <div className="space-y-1.5">
              <span className="text-sm font-medium" id="weekday-label">
                On
              </span>
              <div className="flex gap-1" role="group" aria-labelledby="weekday-label">
                {WEEKDAYS.map((name, day) => {
                  const on = form.weekdays.includes(day);
                  return (
                    <button
                      key={name}
                      type="button"
                      aria-pressed={on}
                      disabled={disabled}
                      onClick={() => set({ weekdays: on ? form.weekdays.filter((d) => d !== day) : [...form.weekdays, day] })}
                      className={cn(
                        "h-8 w-11 rounded-md border text-xs font-medium outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50",
                        on ? "border-primary bg-primary text-primary-foreground" : "bg-card hover:bg-accent",
                      )}
                    >
                      {name}
                    </button>
                  );
                })}
              </div>
            </div>
          )}
          <code className="mb-2 ml-auto rounded bg-muted px-2 py-1 text-xs text-muted-foreground" aria-label="Cron expression">
            {toCron(form)}
          </code>
        </div>
      )}
    </div>
  );
}

function initialForm(view: ScheduleView | undefined) {
  const cron = view?.configured && view.cron ? fromCron(fromEventBridge(view.cron)) : DEFAULT_FORM;
  return {
    cron,
    zone: view?.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
    enabled: view?.configured ? Boolean(view.enabled) : true,
    concurrency: (view?.concurrency ?? "skip") as "skip" | "queue",
  };
}

function ScheduleFormBody({ view, onDone }: { view: ScheduleView; onDone: () => void }) {
  const canEdit = useCanEdit();
  const save = useSaveSchedule();
  const [state, setState] = useState(() => initialForm(view));
  useEffect(() => setState(initialForm(view)), [view]);
  const cron = toCron(state.cron);
  const check = useMemo(() => checkCron(cron, state.zone), [cron, state.zone]);
  const weeklyEmpty = state.cron.kind === "weekly" && state.cron.weekdays.length === 0;
  const problems = [!check.ok ? check.message : null, weeklyEmpty ? "Choose at least one weekday." : null].filter((p): p is string => p !== null);

  return (
    <form
      className="space-y-5"
      aria-label="Schedule"
      onSubmit={(e) => {
        e.preventDefault();
        if (problems.length > 0) return;
        save.mutate(
          { cron, time_zone: state.zone, enabled: state.enabled, concurrency: state.concurrency },
          { onSuccess: () => onDone() },
        );
      }}
    >
      <CronEditor form={state.cron} onChange={(c) => setState((s) => ({ ...s, cron: c }))} disabled={!canEdit} />
      <div className="grid grid-cols-2 gap-4">
        <div className="space-y-1.5">
          <Label htmlFor="schedule-zone">Time zone</Label>
          <ZonePicker id="schedule-zone" value={state.zone} onChange={(zone) => setState((s) => ({ ...s, zone }))} disabled={!canEdit} />
          {fieldError(save.error, "time_zone") && <p className="text-xs text-red-700">{fieldError(save.error, "time_zone")}</p>}
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="schedule-concurrency">When the previous run is still going</Label>
          <NativeSelect id="schedule-concurrency" value={state.concurrency} onChange={(e) => setState((s) => ({ ...s, concurrency: e.target.value as "skip" | "queue" }))} disabled={!canEdit}>
            <option value="skip">Skip this run</option>
            <option value="queue">Queue it (wait)</option>
          </NativeSelect>
        </div>
      </div>

      <div className="rounded-lg border bg-muted/20 p-3" aria-live="polite" data-testid="next-runs">
        <div className="mb-1.5 text-xs font-medium uppercase tracking-wide text-muted-foreground">Next runs in {state.zone}</div>
        {!state.enabled ? (
          <p className="text-sm text-muted-foreground">Disabled: nothing runs on a schedule.</p>
        ) : check.ok ? (
          <ol className="space-y-0.5 text-sm tabular-nums">
            {check.nextRuns.map((d) => (
              <li key={d.toISOString()}>{formatInZone(d, state.zone)}</li>
            ))}
          </ol>
        ) : (
          <p className="text-sm text-muted-foreground">—</p>
        )}
      </div>

      <p className="text-sm text-muted-foreground">
        Who hears of a failed run:{" "}
        <a href="#notifications" className="underline underline-offset-2" onClick={onDone}>
          Notifications
        </a>
        .
      </p>

      <div className="flex items-center gap-3">
        <Switch id="schedule-enabled" checked={state.enabled} onCheckedChange={(v) => setState((s) => ({ ...s, enabled: v }))} disabled={!canEdit} />
        <Label htmlFor="schedule-enabled">Enabled</Label>
      </div>

      {problems.length > 0 && (
        <ul role="alert" className="space-y-0.5 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800" data-testid="schedule-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      {save.error && <ChangeError error={save.error} />}
      <DialogFooter>
        <Button type="button" variant="outline" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" disabled={!canEdit || save.isPending || problems.length > 0}>
          {save.isPending && <Loader2 className="animate-spin" aria-hidden />} Save schedule
        </Button>
      </DialogFooter>
    </form>
  );
}

export function ScheduleDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const schedule = useSchedule(open);
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="max-w-2xl">
        <DialogHeader>
          <DialogTitle>Schedule</DialogTitle>
          <DialogDescription>When the sync looks for new and changed time in Zammad.</DialogDescription>
        </DialogHeader>
        {schedule.isPending ? (
          <LoadingState rows={5} />
        ) : schedule.error ? (
          <ErrorState error={schedule.error} what="The schedule" retry={() => schedule.refetch()} />
        ) : (
          <ScheduleFormBody view={schedule.data} onDone={() => onOpenChange(false)} />
        )}
      </DialogContent>
    </Dialog>
  );
}
