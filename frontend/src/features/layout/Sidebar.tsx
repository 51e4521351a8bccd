import { useEffect, useState } from "react";
import { ArrowRightLeft, Bell, CalendarClock, KeyRound, Users, GitCompareArrows, History, LayoutDashboard, LogOut, Play, Plug, Workflow } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/badge";
import { clearSession, type Session } from "@/api/session";
import { cn } from "@/lib/utils";

export const SECTIONS = [
  { id: "dashboard", label: "Dashboard", icon: LayoutDashboard },
  { id: "connections", label: "Connections", icon: Plug },
  { id: "mappings", label: "Mappings & policies", icon: Workflow },
  { id: "reconcile", label: "Reconcile", icon: GitCompareArrows },
  { id: "history", label: "History & audit", icon: History },
  { id: "notifications", label: "Notifications", icon: Bell },
  { id: "users", label: "Users", icon: Users, adminOnly: true },
] as const;

/** The section nearest the top of the viewport, for the sidebar's highlight. */
function useActiveSection(): string {
  const [active, setActive] = useState<string>(SECTIONS[0].id);
  useEffect(() => {
    const observer = new IntersectionObserver(
      (entries) => {
        const visible = entries.filter((e) => e.isIntersecting).sort((a, b) => a.boundingClientRect.top - b.boundingClientRect.top);
        if (visible[0]) setActive((visible[0].target as HTMLElement).dataset.section ?? SECTIONS[0].id);
      },
      { rootMargin: "0px 0px -70% 0px" },
    );
    // The sections' stable wrappers: a section itself appears only when its chunk has loaded.
    SECTIONS.forEach((s) => {
      const el = document.querySelector(`[data-section="${s.id}"]`);
      if (el) observer.observe(el);
    });
    return () => observer.disconnect();
  }, []);
  return active;
}

export function Sidebar({ session, onSyncNow, onSchedule, onPassword }: { session: Session; onSyncNow: () => void; onSchedule: () => void; onPassword: () => void }) {
  const active = useActiveSection();
  return (
    <aside className="sticky top-0 flex h-screen w-52 shrink-0 xl:w-60 flex-col border-r bg-card">
      <div className="flex items-center gap-2.5 px-5 py-5">
        <span className="flex size-8 items-center justify-center rounded-lg bg-primary text-primary-foreground">
          <ArrowRightLeft className="size-4" aria-hidden />
        </span>
        <div className="leading-tight">
          <div className="text-sm font-semibold">Zammad → Kimai</div>
          <div className="text-xs text-muted-foreground">Sync console</div>
        </div>
      </div>
      <nav aria-label="Sections" className="flex-1 space-y-0.5 px-3">
        {SECTIONS.filter((s) => !("adminOnly" in s) || session.role === "admin").map(({ id, label, icon: Icon }) => (
          <a
            key={id}
            href={`#${id}`}
            aria-current={active === id ? "location" : undefined}
            className={cn(
              "flex items-center gap-2.5 rounded-md px-2.5 py-2 text-sm text-muted-foreground outline-none transition-colors hover:bg-accent hover:text-foreground focus-visible:ring-[3px] focus-visible:ring-ring/50",
              active === id && "bg-accent font-medium text-foreground",
            )}
          >
            <Icon className="size-4" aria-hidden />
            {label}
          </a>
        ))}
        <div className="space-y-1.5 px-1 pt-5">
          <div className="px-1.5 pb-1 text-xs font-medium uppercase tracking-wide text-muted-foreground">Actions</div>
          <Button variant="outline" size="sm" className="w-full justify-start" onClick={onSyncNow}>
            <Play aria-hidden /> Sync now
          </Button>
          <Button variant="outline" size="sm" className="w-full justify-start" onClick={onSchedule}>
            <CalendarClock aria-hidden /> Schedule
          </Button>
        </div>
      </nav>
      <div className="border-t px-4 py-4">
        <div className="flex items-center justify-between gap-2">
          <div className="min-w-0">
            <div className="truncate text-sm font-medium" data-testid="current-user">
              {session.username}
            </div>
            <Badge variant={session.role === "admin" ? "secondary" : "warning"} className="mt-1">
              {session.role === "admin" ? "Admin" : "Viewer · read only"}
            </Badge>
          </div>
          <div className="flex">
            <Button variant="ghost" size="icon" onClick={onPassword} aria-label="Change password" title="Change password">
              <KeyRound aria-hidden />
            </Button>
            <Button variant="ghost" size="icon" onClick={() => clearSession()} aria-label="Sign out" title="Sign out">
              <LogOut aria-hidden />
            </Button>
          </div>
        </div>
      </div>
    </aside>
  );
}
