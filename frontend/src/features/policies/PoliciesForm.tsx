import { useEffect, useMemo, useState, type ReactNode } from "react";
import { Loader2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { Switch } from "@/components/ui/switch";
import { SearchPicker } from "@/components/SearchPicker";
import { ChangeError, fieldError } from "@/components/FieldErrors";
import { useZammadConnection } from "@/features/connections/api";
import { useKimaiPicker, type MappingsView } from "@/features/mappings/api";
import { useSavePolicies, type PoliciesInput, type PoliciesView } from "./api";
import { PolicyPreview } from "./PolicyPreview";
import type { PreviewPolicies, TimeUnit } from "./preview";

function Row({ id, label, hint, error, children }: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <div className="space-y-1.5">
      <Label htmlFor={id}>{label}</Label>
      {children}
      {error ? <p className="text-xs text-red-700">{error}</p> : hint ? <p className="text-xs text-muted-foreground">{hint}</p> : null}
    </div>
  );
}

type Form = {
  placement: string;
  aggregation: string;
  roundingMode: string;
  roundingStep: string;
  roundingMinimum: string;
  approval: boolean;
  timeOnly: boolean;
  strategy: string;
  projectName: string;
  autoCreate: string;
  unmappedUser: string;
  template: string;
  defaultActivity: string | null;
  fallbackCustomer: string | null;
  tags: string;
  billable: string;
};

function fromView(v: PoliciesView): Form {
  const r = v.rounding as { mode: string; step_minutes: number; minimum_minutes?: number | null };
  const ps = v.project_strategy as { strategy: string; name?: string };
  return {
    placement: v.placement as string,
    aggregation: v.aggregation as string,
    roundingMode: r.mode,
    roundingStep: String(r.step_minutes ?? 0),
    roundingMinimum: r.minimum_minutes ? String(r.minimum_minutes) : "",
    approval: Boolean(v.approval_required),
    timeOnly: Boolean(v.time_only_descriptions),
    strategy: ps.strategy,
    projectName: ps.name ?? "Support",
    autoCreate: v.customer_auto_create as string,
    unmappedUser: v.unmapped_user as string,
    template: v.description_template ?? "",
    defaultActivity: v.default_activity ? String(v.default_activity) : null,
    fallbackCustomer: v.fallback_customer ? String(v.fallback_customer) : null,
    tags: (v.tags ?? []).join(", "),
    billable: v.billable === null || v.billable === undefined ? "default" : v.billable ? "yes" : "no",
  };
}

function toInput(f: Form): PoliciesInput {
  return {
    placement: f.placement,
    aggregation: f.aggregation,
    rounding: { mode: f.roundingMode, step_minutes: Number(f.roundingStep) || 0, minimum_minutes: f.roundingMinimum ? Number(f.roundingMinimum) : null },
    approval_required: f.approval,
    project_strategy: f.strategy === "per_customer" ? { strategy: f.strategy, name: f.projectName } : { strategy: f.strategy },
    customer_auto_create: f.autoCreate,
    unmapped_user: f.unmappedUser,
    description_template: f.template,
    time_only_descriptions: f.timeOnly,
    default_activity: f.defaultActivity ? Number(f.defaultActivity) : null,
    fallback_customer: f.fallbackCustomer ? Number(f.fallbackCustomer) : null,
    tags: f.tags.split(",").map((t) => t.trim()).filter(Boolean),
    billable: f.billable === "default" ? null : f.billable === "yes",
  } as unknown as PoliciesInput;
}

export function PoliciesForm({ view, mappings, canEdit }: { view: PoliciesView; mappings: MappingsView; canEdit: boolean }) {
  const [form, setForm] = useState<Form>(() => fromView(view));
  useEffect(() => setForm(fromView(view)), [view]);
  const save = useSavePolicies();
  const zammad = useZammadConnection();
  const activities = useKimaiPicker("activities");
  const customers = useKimaiPicker("customers");
  const users = useKimaiPicker("users");
  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    // An edit after a save: "Saved" (or the last error) no longer describes the form.
    if (!save.isPending) save.reset();
    setForm((f) => ({ ...f, [key]: value }));
  };
  const err = (field: string) => fieldError(save.error, field);

  const previewPolicies = useMemo<PreviewPolicies>(
    () => ({
      placement: form.placement as PreviewPolicies["placement"],
      rounding: { mode: form.roundingMode as PreviewPolicies["rounding"]["mode"], step_minutes: Number(form.roundingStep) || 0, minimum_minutes: form.roundingMinimum ? Number(form.roundingMinimum) : null },
      default_activity: form.defaultActivity ? Number(form.defaultActivity) : null,
      unmapped_user: form.unmappedUser as PreviewPolicies["unmapped_user"],
    }),
    [form],
  );
  const unit = (zammad.data?.time_unit ?? { unit: "minutes" }) as TimeUnit;
  const zone = zammad.data?.default_zone ?? "UTC";
  const pairs = useMemo(() => ({ activity: mappings.activity as { zammad: string; kimai: number }[], user: mappings.user as { zammad: string; kimai: number }[] }), [mappings]);
  const nameIn = (list: { id: number; name: string }[] | undefined) => (id: number) => list?.find((x) => x.id === id)?.name;
  const options = (list: { id: number; name: string; visible: boolean }[] | undefined) => (list ?? []).map((x) => ({ value: String(x.id), label: x.name, hint: `#${x.id}`, muted: !x.visible }));

  return (
    <form
      aria-label="Policies"
      className="space-y-5"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ version: view.version, policies: toInput(form) });
      }}
    >
      <fieldset disabled={!canEdit} className="grid grid-cols-3 gap-4">
        <Row id="pol-placement" label="Placement" hint="Where the booked time sits relative to when it was logged" error={err("placement")}>
          <NativeSelect id="pol-placement" value={form.placement} onChange={(e) => set("placement", e.target.value)}>
            <option value="end_at_logged">Ends when logged</option>
            <option value="begin_at_logged">Begins when logged</option>
          </NativeSelect>
        </Row>
        <Row id="pol-aggregation" label="Aggregation" error={err("aggregation")}>
          <NativeSelect id="pol-aggregation" value={form.aggregation} onChange={(e) => set("aggregation", e.target.value)}>
            <option value="per_accounting">One timesheet per accounting</option>
            <option value="per_ticket_agent_activity_day">Per ticket, agent, activity and day</option>
          </NativeSelect>
        </Row>
        <Row id="pol-rounding" label="Rounding" error={err("rounding")}>
          <div className="grid grid-cols-[1fr_4.5rem_4.5rem] gap-2">
            <NativeSelect id="pol-rounding" value={form.roundingMode} onChange={(e) => set("roundingMode", e.target.value)}>
              <option value="none">None</option>
              <option value="up">Up</option>
              <option value="down">Down</option>
              <option value="nearest">Nearest</option>
            </NativeSelect>
            <Input aria-label="Rounding step in minutes" title="Step (min)" placeholder="step" inputMode="numeric" value={form.roundingStep} onChange={(e) => set("roundingStep", e.target.value)} disabled={form.roundingMode === "none"} />
            <Input aria-label="Minimum minutes" title="Minimum (min)" placeholder="min" inputMode="numeric" value={form.roundingMinimum} onChange={(e) => set("roundingMinimum", e.target.value)} />
          </div>
        </Row>
        <Row id="pol-strategy" label="Projects" error={err("project_strategy")}>
          <div className="grid grid-cols-2 gap-2">
            <NativeSelect id="pol-strategy" value={form.strategy} onChange={(e) => set("strategy", e.target.value)}>
              <option value="per_customer">One per customer</option>
              <option value="per_ticket">One per ticket</option>
              <option value="by_group">By Zammad group</option>
            </NativeSelect>
            {form.strategy === "per_customer" && <Input aria-label="Project name" value={form.projectName} onChange={(e) => set("projectName", e.target.value)} />}
          </div>
        </Row>
        <Row id="pol-autocreate" label="Create missing customers" error={err("customer_auto_create")}>
          <NativeSelect id="pol-autocreate" value={form.autoCreate} onChange={(e) => set("autoCreate", e.target.value)}>
            <option value="off">Off</option>
            <option value="on">On</option>
            <option value="after_review">After review</option>
          </NativeSelect>
        </Row>
        <Row id="pol-unmapped" label="Agent without a Kimai user" error={err("unmapped_user")}>
          <NativeSelect id="pol-unmapped" value={form.unmappedUser} onChange={(e) => set("unmappedUser", e.target.value)}>
            <option value="conflict">Conflict</option>
            <option value="book_as_api_user">Book as the API user</option>
          </NativeSelect>
        </Row>
        <Row id="pol-default-activity" label="Default activity" error={err("default_activity")}>
          <SearchPicker id="pol-default-activity" value={form.defaultActivity} options={options(activities.data)} onChange={(v) => set("defaultActivity", v)} loading={activities.isPending} disabled={!canEdit} placeholder="None" />
        </Row>
        <Row id="pol-fallback-customer" label="Fallback customer" hint="For tickets without organisation" error={err("fallback_customer")}>
          <SearchPicker id="pol-fallback-customer" value={form.fallbackCustomer} options={options(customers.data)} onChange={(v) => set("fallbackCustomer", v)} loading={customers.isPending} disabled={!canEdit} placeholder="None" />
        </Row>
        <Row id="pol-billable" label="Billable" error={err("billable")}>
          <NativeSelect id="pol-billable" value={form.billable} onChange={(e) => set("billable", e.target.value)}>
            <option value="default">Kimai's default</option>
            <option value="yes">Yes</option>
            <option value="no">No</option>
          </NativeSelect>
        </Row>
        <div className="col-span-2">
          <Row id="pol-template" label="Description" hint="Placeholders: {marker} {ticket_number} {ticket_title} {ticket_id} {agent} {type} {organisation}" error={err("description_template")}>
            <Input id="pol-template" value={form.template} onChange={(e) => set("template", e.target.value)} disabled={form.timeOnly} />
          </Row>
        </div>
        <div className="col-span-3 flex items-center gap-3">
          <Switch id="pol-time-only" checked={form.timeOnly} onCheckedChange={(v) => set("timeOnly", v)} disabled={!canEdit} />
          <Label htmlFor="pol-time-only">Time only: descriptions carry the marker and the ticket number, no ticket title or names</Label>
        </div>
        <Row id="pol-tags" label="Tags" hint="Comma-separated" error={err("tags")}>
          <Input id="pol-tags" value={form.tags} onChange={(e) => set("tags", e.target.value)} />
        </Row>
        <div className="col-span-3 flex items-center gap-3">
          <Switch id="pol-approval" checked={form.approval} onCheckedChange={(v) => set("approval", v)} />
          <Label htmlFor="pol-approval">Hold new timesheets for approval before they are written</Label>
        </div>
      </fieldset>

      <PolicyPreview policies={previewPolicies} unit={unit} zone={zone} mappings={pairs} activityName={nameIn(activities.data)} userName={nameIn(users.data)} />

      {save.error && <ChangeError error={save.error} />}
      <div className="flex items-center justify-end gap-3">
        {save.isSuccess && <span className="text-xs text-emerald-700">Saved</span>}
        <Button type="button" variant="outline" onClick={() => setForm(fromView(view))} disabled={!canEdit}>
          Reset
        </Button>
        <Button type="submit" disabled={!canEdit || save.isPending}>
          {save.isPending && <Loader2 className="animate-spin" aria-hidden />} Save policies
        </Button>
      </div>
    </form>
  );
}
