import { cn } from "@/lib/utils";
import { diffTimesheets, type DesiredSide, type KimaiSide } from "./diff";

/** Zammad's wish and Kimai's timesheet side by side; differing fields are highlighted. */
export function DiffView({ desired, kimai, detail }: { desired: DesiredSide | null | undefined; kimai: KimaiSide | null | undefined; detail?: string }) {
  if (!desired && !kimai) {
    // Mapping conflicts stop before a timesheet exists on either side: the detail is the story.
    return (
      <p className="text-sm" data-testid="conflict-detail">
        <span className="font-medium">No timesheet on either side yet.</span> <span className="text-muted-foreground">{detail}</span>
      </p>
    );
  }
  const rows = diffTimesheets(desired, kimai);
  return (
    <table className="w-full text-sm" aria-label="Zammad and Kimai side by side">
      <thead>
        <tr className="text-xs text-muted-foreground">
          <th className="w-28 py-1.5 text-left font-medium">Field</th>
          <th className="py-1.5 text-left font-medium">Zammad (wanted){!desired && " — none"}</th>
          <th className="py-1.5 text-left font-medium">Kimai{kimai ? ` #${kimai.id}` : " — none"}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.field} data-differs={r.differs} className="border-t">
            <th scope="row" className="py-1.5 text-left text-xs font-medium text-muted-foreground">
              {r.label}
            </th>
            <td className={cn("py-1.5 pr-3", r.differs && "bg-amber-50 font-medium text-amber-900")}>{r.zammad || "—"}</td>
            <td className={cn("py-1.5 pr-3", r.differs && "bg-amber-50 font-medium text-amber-900")}>{r.kimai || "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
