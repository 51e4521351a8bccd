import { lazy, Suspense, useState, type ReactNode } from "react";
import { Sidebar } from "./Sidebar";
import { useSession } from "@/features/auth/useSession";
import { LoadingState } from "@/components/QueryState";
import { PasswordDialog } from "@/features/users/PasswordDialog";
import { useMe } from "@/features/users/api";

// Each section and dialog is its own chunk, loaded when the console opens: the first paint
// (login, layout) does not wait for the whole console, and recharts comes only with the chart.
const DashboardSection = lazy(() => import("@/features/dashboard/DashboardSection").then((m) => ({ default: m.DashboardSection })));
const ConnectionsSection = lazy(() => import("@/features/connections/ConnectionsSection").then((m) => ({ default: m.ConnectionsSection })));
const MappingsSection = lazy(() => import("@/features/mappings/MappingsSection").then((m) => ({ default: m.MappingsSection })));
const ReconcileSection = lazy(() => import("@/features/reconcile/ReconcileSection").then((m) => ({ default: m.ReconcileSection })));
const HistorySection = lazy(() => import("@/features/history/HistorySection").then((m) => ({ default: m.HistorySection })));
const NotificationsSection = lazy(() => import("@/features/notifications/NotificationsSection").then((m) => ({ default: m.NotificationsSection })));
const UsersSection = lazy(() => import("@/features/users/UsersSection").then((m) => ({ default: m.UsersSection })));
const ScheduleDialog = lazy(() => import("@/features/schedule/ScheduleDialog").then((m) => ({ default: m.ScheduleDialog })));
const SyncNowDialog = lazy(() => import("@/features/sync-now/SyncNowDialog").then((m) => ({ default: m.SyncNowDialog })));

/** A section's stable place on the page (the sidebar watches it) while its chunk loads. */
function Lazy({ id, children }: { id: string; children: ReactNode }) {
  return (
    <div data-section={id}>
      <Suspense fallback={<LoadingState rows={4} className="py-8" />}>{children}</Suspense>
    </div>
  );
}

/** The console: one page of anchored sections beside a sidebar, and its dialogs. */
export function ConsolePage() {
  const session = useSession();
  const [syncOpen, setSyncOpen] = useState(false);
  const [scheduleOpen, setScheduleOpen] = useState(false);
  const [passwordOpen, setPasswordOpen] = useState(false);
  // A temporary password (a new user, or one an admin reset) is replaced before anything else.
  const mustChange = useMe().data?.must_change_password === true;
  if (!session) return null;
  return (
    <div className="flex min-h-screen">
      <a href="#main" className="sr-only z-50 rounded-md bg-card px-3 py-2 text-sm shadow focus:not-sr-only focus:fixed focus:left-3 focus:top-3">
        Skip to content
      </a>
      <Sidebar session={session} onSyncNow={() => setSyncOpen(true)} onSchedule={() => setScheduleOpen(true)} onPassword={() => setPasswordOpen(true)} />
      <main id="main" tabIndex={-1} className="min-w-0 flex-1 divide-y px-6 pb-24 outline-none xl:px-12">
        {session.role === "viewer" && (
          <p className="mt-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800" role="note">
            You are signed in as a viewer: everything is read only.
          </p>
        )}
        <Lazy id="dashboard">
          <DashboardSection onScheduleClick={() => setScheduleOpen(true)} />
        </Lazy>
        <Lazy id="connections">
          <ConnectionsSection />
        </Lazy>
        <Lazy id="mappings">
          <MappingsSection />
        </Lazy>
        <Lazy id="reconcile">
          <ReconcileSection />
        </Lazy>
        <Lazy id="history">
          <HistorySection />
        </Lazy>
        <Lazy id="notifications">
          <NotificationsSection />
        </Lazy>
        {session.role === "admin" && (
          <Lazy id="users">
            <UsersSection />
          </Lazy>
        )}
      </main>
      <Suspense fallback={null}>
        <SyncNowDialog open={syncOpen} onOpenChange={setSyncOpen} />
        <ScheduleDialog open={scheduleOpen} onOpenChange={setScheduleOpen} />
      </Suspense>
      <PasswordDialog open={passwordOpen || mustChange} onOpenChange={setPasswordOpen} required={mustChange} />
    </div>
  );
}
