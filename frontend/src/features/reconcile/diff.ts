/**
 * Zammad's wish (the desired timesheet) beside what Kimai holds, field by field, so the screen
 * can highlight what differs. Times compare as local wall-clock times: Kimai answers with the
 * owner's offset, the desired timesheet carries the owner's local time without one.
 */

export interface DesiredSide {
  begin: string;
  end: string;
  duration_secs: number;
  activity: number;
  project: number;
  user: number;
  description: string;
  tags: string[];
}

export interface KimaiSide {
  id: number;
  begin: string;
  end?: string | null;
  duration_secs: number;
  activity: number;
  project: number;
  user: number;
  description?: string | null;
  tags: string[];
  exported?: boolean;
}

export interface DiffRow {
  field: string;
  label: string;
  zammad: string;
  kimai: string;
  differs: boolean;
}

/** `2026-11-20T09:00:00+01:00` or `2026-11-20T09:00:00` → `2026-11-20 09:00`. */
export function wallClock(value: string | null | undefined): string {
  if (!value) return "";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(value);
  return m ? `${m[1]} ${m[2]}` : value;
}

export function formatDuration(seconds: number): string {
  const sign = seconds < 0 ? "−" : "";
  const total = Math.round(Math.abs(seconds) / 60);
  const h = Math.floor(total / 60);
  const m = total % 60;
  return `${sign}${h}:${String(m).padStart(2, "0")} h`;
}

const tagsText = (tags: string[] | undefined) => [...(tags ?? [])].sort().join(", ");

export function diffTimesheets(desired: DesiredSide | null | undefined, kimai: KimaiSide | null | undefined): DiffRow[] {
  const rows: [string, string, string, string][] = [
    ["begin", "Begin", wallClock(desired?.begin), wallClock(kimai?.begin)],
    ["end", "End", wallClock(desired?.end), wallClock(kimai?.end)],
    ["duration", "Duration", desired ? formatDuration(desired.duration_secs) : "", kimai ? formatDuration(kimai.duration_secs) : ""],
    ["activity", "Activity", desired ? `#${desired.activity}` : "", kimai ? `#${kimai.activity}` : ""],
    ["project", "Project", desired ? `#${desired.project}` : "", kimai ? `#${kimai.project}` : ""],
    ["user", "User", desired ? `#${desired.user}` : "", kimai ? `#${kimai.user}` : ""],
    ["description", "Description", desired?.description ?? "", kimai?.description ?? ""],
    ["tags", "Tags", desired ? tagsText(desired.tags) : "", kimai ? tagsText(kimai.tags) : ""],
  ];
  // With one side missing (deleted in Kimai, nothing wanted any more) every field differs.
  return rows.map(([field, label, zammad, kimaiValue]) => ({ field, label, zammad, kimai: kimaiValue, differs: zammad !== kimaiValue }));
}
