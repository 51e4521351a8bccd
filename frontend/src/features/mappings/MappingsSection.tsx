import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Section } from "@/components/Section";
import { ErrorState, LoadingState } from "@/components/QueryState";
import { useCanEdit } from "@/features/auth/useSession";
import { usePolicies } from "@/features/policies/api";
import { PoliciesForm } from "@/features/policies/PoliciesForm";
import { MAPPING_KINDS, useMappings } from "./api";
import { MappingTable } from "./MappingTable";

const TITLES = { activity: "Activities", customer: "Customers", project: "Projects", user: "Users" } as const;

export function MappingsSection() {
  const canEdit = useCanEdit();
  const mappings = useMappings();
  const policies = usePolicies();
  return (
    <Section id="mappings" title="Mappings and policies" description="Which Kimai records Zammad's types, organisations, groups and agents become, and how time is booked.">
      <Card>
        <CardHeader>
          <div>
            <CardTitle>Mappings</CardTitle>
            <CardDescription className="mt-1">Explicit mappings win over matching by number, name or e-mail.</CardDescription>
          </div>
        </CardHeader>
        <CardContent>
          {mappings.isPending ? (
            <LoadingState rows={4} />
          ) : mappings.error ? (
            <ErrorState error={mappings.error} what="Mappings" retry={() => mappings.refetch()} />
          ) : (
            <Tabs defaultValue="activity">
              <TabsList aria-label="Mapping kind">
                {MAPPING_KINDS.map((k) => (
                  <TabsTrigger key={k} value={k}>
                    {TITLES[k]}
                    <span className="rounded bg-muted px-1.5 text-xs tabular-nums text-muted-foreground">{mappings.data[k].length}</span>
                  </TabsTrigger>
                ))}
              </TabsList>
              {MAPPING_KINDS.map((k) => (
                <TabsContent key={k} value={k}>
                  <MappingTable kind={k} pairs={mappings.data[k] as { zammad: string; kimai: number }[]} canEdit={canEdit} />
                </TabsContent>
              ))}
            </Tabs>
          )}
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <div>
            <CardTitle>Policies</CardTitle>
            <CardDescription className="mt-1">How accountings become timesheets. Changes apply to the next sync of a ticket.</CardDescription>
          </div>
        </CardHeader>
        <CardContent>
          {policies.isPending || mappings.isPending ? (
            <LoadingState rows={6} />
          ) : policies.error ? (
            <ErrorState error={policies.error} what="Policies" retry={() => policies.refetch()} />
          ) : mappings.data ? (
            <PoliciesForm view={policies.data} mappings={mappings.data} canEdit={canEdit} />
          ) : null}
        </CardContent>
      </Card>
    </Section>
  );
}
