import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { CheckCircle2, KeyRound, Loader2, PlugZap, XCircle } from "lucide-react";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Badge } from "@/components/ui/badge";
import { NativeSelect } from "@/components/ui/native-select";
import { Section } from "@/components/Section";
import { ErrorState, LoadingState } from "@/components/QueryState";
import { ChangeError, fieldError } from "@/components/FieldErrors";
import { useCanEdit } from "@/features/auth/useSession";
import { ZonePicker } from "@/features/schedule/ZonePicker";
import { useKimaiConnection, useSaveKimai, useSaveZammad, useTestKimai, useTestZammad, useZammadConnection } from "./api";

function TokenBadge({ state }: { state: string }) {
  return state === "set" ? (
    <Badge variant="success">
      <KeyRound aria-hidden /> token set
    </Badge>
  ) : (
    <Badge variant="warning">no token</Badge>
  );
}

function Field({ id, label, hint, error, children }: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  return (
    <div className="space-y-1.5">
      <Label htmlFor={id}>{label}</Label>
      {children}
      {error ? (
        <p className="text-xs text-red-700" id={`${id}-error`}>
          {error}
        </p>
      ) : (
        hint && <p className="text-xs text-muted-foreground">{hint}</p>
      )}
    </div>
  );
}

function TestResult({ result, error }: { result: { ok: boolean; error?: string | null; lines: string[] } | undefined; error: unknown }) {
  if (error) return <ChangeError error={error} />;
  if (!result) return null;
  return (
    <div role="status" className={`rounded-md border px-3 py-2 text-sm ${result.ok ? "border-emerald-200 bg-emerald-50/60" : "border-red-200 bg-red-50/60"}`} data-testid="connection-test-result">
      <p className="flex items-center gap-1.5 font-medium">
        {result.ok ? <CheckCircle2 className="size-4 text-emerald-600" aria-hidden /> : <XCircle className="size-4 text-red-600" aria-hidden />}
        {result.ok ? "Connection works" : "Connection failed"}
      </p>
      {result.error && <p className="mt-0.5 text-red-700">{result.error}</p>}
      {result.lines.length > 0 && (
        <ul className="mt-1 space-y-0.5 text-muted-foreground">
          {result.lines.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

type UnitChoice = "minutes" | "hours" | "quarter_hours" | "minutes_per_unit";

function ZammadCard() {
  const canEdit = useCanEdit();
  const query = useZammadConnection();
  const save = useSaveZammad();
  const test = useTestZammad();
  const [baseUrl, setBaseUrl] = useState("");
  const [unit, setUnit] = useState<UnitChoice>("minutes");
  const [perUnit, setPerUnit] = useState("15");
  const [zone, setZone] = useState("Europe/Berlin");
  const [discovery, setDiscovery] = useState("auto");
  const [token, setToken] = useState("");

  useEffect(() => {
    const c = query.data;
    if (!c) return;
    setBaseUrl(c.base_url ?? "");
    const tu = (c.time_unit ?? { unit: "minutes" }) as { unit: UnitChoice; minutes?: string | number };
    setUnit(tu.unit);
    if (tu.minutes !== undefined) setPerUnit(String(tu.minutes));
    setZone(c.default_zone ?? "Europe/Berlin");
    setDiscovery(c.discovery ?? "auto");
  }, [query.data]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const time_unit = unit === "minutes_per_unit" ? { unit, minutes: perUnit } : { unit };
    save.mutate({ base_url: baseUrl.trim(), time_unit, default_zone: zone, discovery, ...(token ? { token } : {}) }, { onSuccess: () => setToken("") });
  }

  const t = test.data;
  return (
    <Card data-testid="zammad-connection">
      <CardHeader>
        <div>
          <CardTitle>Zammad</CardTitle>
          <CardDescription className="mt-1">Where time accountings come from.</CardDescription>
        </div>
        {query.data && <TokenBadge state={query.data.token} />}
      </CardHeader>
      {query.isPending ? (
        <CardContent>
          <LoadingState rows={4} />
        </CardContent>
      ) : query.error ? (
        <CardContent>
          <ErrorState error={query.error} what="The Zammad connection" retry={() => query.refetch()} />
        </CardContent>
      ) : (
        <form onSubmit={submit} className="contents" aria-label="Zammad connection">
          <CardContent className="space-y-4">
            <Field id="zammad-url" label="URL" error={fieldError(save.error, "base_url")}>
              <Input id="zammad-url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder="https://helpdesk.example.com" disabled={!canEdit} required />
            </Field>
            <div className="grid grid-cols-2 gap-3">
              <Field id="zammad-unit" label="Time unit" hint="What one unit of Zammad's time means" error={fieldError(save.error, "time_unit")}>
                <NativeSelect id="zammad-unit" value={unit} onChange={(e) => setUnit(e.target.value as UnitChoice)} disabled={!canEdit}>
                  <option value="minutes">Minutes</option>
                  <option value="hours">Hours</option>
                  <option value="quarter_hours">Quarter hours</option>
                  <option value="minutes_per_unit">Custom minutes per unit</option>
                </NativeSelect>
              </Field>
              {unit === "minutes_per_unit" ? (
                <Field id="zammad-per-unit" label="Minutes per unit">
                  <Input id="zammad-per-unit" inputMode="decimal" value={perUnit} onChange={(e) => setPerUnit(e.target.value)} disabled={!canEdit} />
                </Field>
              ) : (
                <Field id="zammad-discovery" label="Discovery">
                  <NativeSelect id="zammad-discovery" value={discovery} onChange={(e) => setDiscovery(e.target.value)} disabled={!canEdit}>
                    <option value="auto">Automatic</option>
                    <option value="global_listing">Global listing (admin token)</option>
                    <option value="ticket_search">Ticket search</option>
                  </NativeSelect>
                </Field>
              )}
            </div>
            <Field id="zammad-zone" label="Default zone" hint="For agents without a zone of their own" error={fieldError(save.error, "default_zone")}>
              <ZonePicker id="zammad-zone" value={zone} onChange={setZone} disabled={!canEdit} />
            </Field>
            <Field id="zammad-token" label="API token" hint={query.data?.token === "set" ? "Leave empty to keep the stored token." : "Needed before the first sync."} error={fieldError(save.error, "token")}>
              <Input id="zammad-token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} disabled={!canEdit} placeholder={query.data?.token === "set" ? "••••••••" : ""} />
            </Field>
            {save.error && <ChangeError error={save.error} />}
            <TestResult
              error={test.error}
              result={
                t && {
                  ok: t.ok,
                  error: t.error,
                  lines: [
                    t.user ? `Signed in as ${t.user.name ?? t.user.login} (${t.user.login})` : "",
                    t.version ? `Zammad ${t.version}` : "",
                    t.types ? `${t.types.length} time accounting types: ${t.types.map((x) => x.name).join(", ")}` : "",
                  ].filter(Boolean),
                }
              }
            />
          </CardContent>
          <CardFooter className="justify-end">
            {save.isSuccess && !save.isPending && <span className="mr-auto text-xs text-emerald-700">Saved</span>}
            <Button type="button" variant="outline" onClick={() => test.mutate()} disabled={!canEdit || test.isPending || !query.data?.configured}>
              {test.isPending ? <Loader2 className="animate-spin" aria-hidden /> : <PlugZap aria-hidden />} Test connection
            </Button>
            <Button type="submit" disabled={!canEdit || save.isPending}>
              {save.isPending && <Loader2 className="animate-spin" aria-hidden />} Save
            </Button>
          </CardFooter>
        </form>
      )}
    </Card>
  );
}

function KimaiCard() {
  const canEdit = useCanEdit();
  const query = useKimaiConnection();
  const save = useSaveKimai();
  const test = useTestKimai();
  const [baseUrl, setBaseUrl] = useState("");
  const [token, setToken] = useState("");

  useEffect(() => {
    if (query.data) setBaseUrl(query.data.base_url ?? "");
  }, [query.data]);

  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate({ base_url: baseUrl.trim(), ...(token ? { token } : {}) }, { onSuccess: () => setToken("") });
  }

  const t = test.data;
  return (
    <Card data-testid="kimai-connection">
      <CardHeader>
        <div>
          <CardTitle>Kimai</CardTitle>
          <CardDescription className="mt-1">Where timesheets are written.</CardDescription>
        </div>
        {query.data && <TokenBadge state={query.data.token} />}
      </CardHeader>
      {query.isPending ? (
        <CardContent>
          <LoadingState rows={3} />
        </CardContent>
      ) : query.error ? (
        <CardContent>
          <ErrorState error={query.error} what="The Kimai connection" retry={() => query.refetch()} />
        </CardContent>
      ) : (
        <form onSubmit={submit} className="contents" aria-label="Kimai connection">
          <CardContent className="space-y-4">
            <Field id="kimai-url" label="URL" error={fieldError(save.error, "base_url")}>
              <Input id="kimai-url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder="https://kimai.example.com" disabled={!canEdit} required />
            </Field>
            <Field id="kimai-token" label="API token" hint={query.data?.token === "set" ? "Leave empty to keep the stored token." : "Needed before the first sync."} error={fieldError(save.error, "token")}>
              <Input id="kimai-token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} disabled={!canEdit} placeholder={query.data?.token === "set" ? "••••••••" : ""} />
            </Field>
            <p className="text-xs text-muted-foreground">Time unit and zone come from the Zammad connection; Kimai keeps each user's own zone.</p>
            {save.error && <ChangeError error={save.error} />}
            <TestResult
              error={test.error}
              result={
                t && {
                  ok: t.ok,
                  error: t.error,
                  lines: [
                    t.user ? `Signed in as ${t.user.username} (zone ${t.user.timezone})` : "",
                    t.version ? `Kimai ${t.version}` : "",
                    t.ok ? (t.may_book_for_others ? "May book for other users" : "May book only for itself: other agents become conflicts") : "",
                  ].filter(Boolean),
                }
              }
            />
          </CardContent>
          <CardFooter className="justify-end">
            {save.isSuccess && !save.isPending && <span className="mr-auto text-xs text-emerald-700">Saved</span>}
            <Button type="button" variant="outline" onClick={() => test.mutate()} disabled={!canEdit || test.isPending || !query.data?.configured}>
              {test.isPending ? <Loader2 className="animate-spin" aria-hidden /> : <PlugZap aria-hidden />} Test connection
            </Button>
            <Button type="submit" disabled={!canEdit || save.isPending}>
              {save.isPending && <Loader2 className="animate-spin" aria-hidden />} Save
            </Button>
          </CardFooter>
        </form>
      )}
    </Card>
  );
}

export function ConnectionsSection() {
  return (
    <Section id="connections" title="Connections" description="The two systems the sync talks to. Tokens are write-only: the console never shows them.">
      <div className="grid grid-cols-2 gap-4">
        <ZammadCard />
        <KimaiCard />
      </div>
    </Section>
  );
}
