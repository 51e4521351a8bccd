import { useState } from "react";
import { Card, CardContent } from "@/components/ui/card";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Section } from "@/components/Section";
import { useCanEdit } from "@/features/auth/useSession";
import { ApprovalsTab } from "./ApprovalsTab";
import { ConflictsTab } from "./ConflictsTab";
import { DeadLettersTab } from "./DeadLettersTab";

export function ReconcileSection() {
  const canEdit = useCanEdit();
  const [tab, setTab] = useState("conflicts");
  return (
    <Section id="reconcile" title="Reconcile" description="What the sync could not decide alone: conflicts, timesheets waiting for approval, and messages that failed every retry.">
      <Card>
        <CardContent>
          <Tabs value={tab} onValueChange={setTab}>
            <TabsList aria-label="Reconcile lists">
              <TabsTrigger value="conflicts">Conflicts</TabsTrigger>
              <TabsTrigger value="approval">Awaiting approval</TabsTrigger>
              <TabsTrigger value="dead-letters">Dead letters</TabsTrigger>
            </TabsList>
            <TabsContent value="conflicts">
              <ConflictsTab canEdit={canEdit} />
            </TabsContent>
            <TabsContent value="approval">
              <ApprovalsTab canEdit={canEdit} active={tab === "approval"} />
            </TabsContent>
            <TabsContent value="dead-letters">
              <DeadLettersTab canEdit={canEdit} active={tab === "dead-letters"} />
            </TabsContent>
          </Tabs>
        </CardContent>
      </Card>
    </Section>
  );
}
