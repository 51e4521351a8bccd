import { useState } from "react";
import { Sidebar } from "./Sidebar";
import { useSession } from "@/features/auth/useSession";
import { DashboardSection } from "@/features/dashboard/DashboardSection";
import { ConnectionsSection } from "@/features/connections/ConnectionsSection";
import { MappingsSection } from "@/features/mappings/MappingsSection";
import { ReconcileSection } from "@/features/reconcile/ReconcileSection";
import { HistorySection } from "@/features/history/HistorySection";
import { NotificationsSection } from "@/features/notifications/NotificationsSection";
import { ScheduleDialog } from "@/features/schedule/ScheduleDialog";
import { SyncNowDialog } from "@/features/sync-now/SyncNowDialog";

/** The console: one page of anchored sections beside a sidebar, and the two dialogs. */
export function ConsolePage() {
  const session = useSession();
  const [syncOpen, setSyncOpen] = useState(false);
  const [scheduleOpen, setScheduleOpen] = useState(false);
  if (!session) return null;
  return (
    <div className="flex min-h-screen">
      <a href="#main" className="sr-only z-50 rounded-md bg-card px-3 py-2 text-sm shadow focus:not-sr-only focus:fixed focus:left-3 focus:top-3">
        Skip to content
      </a>
      <Sidebar session={session} onSyncNow={() => setSyncOpen(true)} onSchedule={() => setScheduleOpen(true)} />
      <main id="main" tabIndex={-1} className="min-w-0 flex-1 divide-y px-6 pb-24 outline-none xl:px-12">
        {session.role === "viewer" && (
          <p className="mt-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800" role="note">
            You are signed in as a viewer: everything is read only.
          </p>
        )}
        <DashboardSection onScheduleClick={() => setScheduleOpen(true)} />
        <ConnectionsSection />
        <MappingsSection />
        <ReconcileSection />
        <HistorySection />
        <NotificationsSection />
      </main>
      <SyncNowDialog open={syncOpen} onOpenChange={setSyncOpen} />
      <ScheduleDialog open={scheduleOpen} onOpenChange={setScheduleOpen} />
    </div>
  );
}
