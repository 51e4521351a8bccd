import { useMemo, useState } from "react";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { previewBooking, type Pair, type PreviewPolicies, type TimeUnit } from "./preview";

/** How a sample accounting would be booked under the form's current (unsaved) policies. */
export function PolicyPreview({
  policies,
  unit,
  zone,
  mappings,
  activityName,
  userName,
}: {
  policies: PreviewPolicies;
  unit: TimeUnit;
  zone: string;
  mappings: { activity: Pair[]; user: Pair[] };
  activityName: (id: number) => string | undefined;
  userName: (id: number) => string | undefined;
}) {
  const [loggedAt, setLoggedAt] = useState("2026-11-20T16:40");
  const [amount, setAmount] = useState("50");
  const [typeId, setTypeId] = useState("");
  const [agentId, setAgentId] = useState("2");
  const result = useMemo(
    () => previewBooking({ loggedAt, amount: Number(amount), typeId: typeId === "" ? null : Number(typeId), agentId: Number(agentId) }, policies, unit, zone, mappings),
    [loggedAt, amount, typeId, agentId, policies, unit, zone, mappings],
  );
  return (
    <div className="space-y-3 rounded-lg border bg-muted/20 p-4" aria-labelledby="preview-title" data-testid="policy-preview">
      <div>
        <h4 id="preview-title" className="text-sm font-semibold">
          Preview
        </h4>
        <p className="text-xs text-muted-foreground">A sample Zammad accounting, booked with the settings above (not saved yet). Zone {zone}.</p>
      </div>
      <div className="grid grid-cols-4 gap-2">
        <div className="space-y-1">
          <Label htmlFor="pv-logged" className="text-xs">
            Logged at
          </Label>
          <Input id="pv-logged" type="datetime-local" value={loggedAt} onChange={(e) => setLoggedAt(e.target.value)} className="h-8 text-xs" />
        </div>
        <div className="space-y-1">
          <Label htmlFor="pv-amount" className="text-xs">
            Amount ({unit.unit.replace(/_/g, " ")})
          </Label>
          <Input id="pv-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} className="h-8 text-xs" />
        </div>
        <div className="space-y-1">
          <Label htmlFor="pv-type" className="text-xs">
            Type id
          </Label>
          <Input id="pv-type" inputMode="numeric" value={typeId} onChange={(e) => setTypeId(e.target.value)} placeholder="none" className="h-8 text-xs" />
        </div>
        <div className="space-y-1">
          <Label htmlFor="pv-agent" className="text-xs">
            Agent id
          </Label>
          <Input id="pv-agent" inputMode="numeric" value={agentId} onChange={(e) => setAgentId(e.target.value)} className="h-8 text-xs" />
        </div>
      </div>
      {result.booked ? (
        <dl className="grid grid-cols-5 gap-2 rounded-md border bg-card p-3 text-sm" aria-live="polite">
          <div>
            <dt className="text-xs text-muted-foreground">Begin</dt>
            <dd className="font-medium tabular-nums" data-testid="preview-begin">{result.begin}</dd>
          </div>
          <div>
            <dt className="text-xs text-muted-foreground">End</dt>
            <dd className="font-medium tabular-nums" data-testid="preview-end">{result.end}</dd>
          </div>
          <div>
            <dt className="text-xs text-muted-foreground">Duration</dt>
            <dd className="font-medium tabular-nums" data-testid="preview-duration">{result.durationMinutes} min</dd>
          </div>
          <div>
            <dt className="text-xs text-muted-foreground">Activity</dt>
            <dd className="font-medium">
              {result.activity.id !== null ? (activityName(result.activity.id) ?? `#${result.activity.id}`) : "—"}
              <span className="block text-xs font-normal text-muted-foreground">{result.activity.source === "mapping" ? "from the type's mapping" : "default activity"}</span>
            </dd>
          </div>
          <div>
            <dt className="text-xs text-muted-foreground">User</dt>
            <dd className="font-medium">
              {result.user.id !== null ? (userName(result.user.id) ?? `#${result.user.id}`) : result.user.source === "api_user" ? "API user" : "by e-mail"}
              <span className="block text-xs font-normal text-muted-foreground">
                {result.user.source === "mapping" ? "from the agent's mapping" : result.user.source === "api_user" ? "agent named in description" : "Kimai user with the agent's e-mail"}
              </span>
            </dd>
          </div>
        </dl>
      ) : (
        <p className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800" aria-live="polite">
          {result.reason}
        </p>
      )}
    </div>
  );
}
