/** Which resolutions fit which conflict reason (the API refuses the others with a 400). */

export type ResolveAction = "link" | "create_anyway" | "keep_kimai" | "apply_zammad" | "recreate" | "accept_deletion" | "ignore";

export const ACTIONS_BY_REASON: Record<string, ResolveAction[]> = {
  probable_duplicate: ["link", "create_anyway", "ignore"],
  locked_or_exported: ["keep_kimai", "ignore"],
  both_changed: ["keep_kimai", "apply_zammad", "ignore"],
  orphaned: ["keep_kimai", "apply_zammad", "ignore"],
  deleted_in_kimai: ["recreate", "accept_deletion", "ignore"],
  kimai_rejected: ["apply_zammad", "ignore"],
};

export const ACTION_LABELS: Record<ResolveAction, string> = {
  link: "Link to timesheet",
  create_anyway: "Create anyway",
  keep_kimai: "Keep Kimai",
  apply_zammad: "Apply Zammad",
  recreate: "Recreate",
  accept_deletion: "Accept deletion",
  ignore: "Ignore",
};

export const REASON_LABELS: Record<string, string> = {
  probable_duplicate: "Probable duplicate",
  locked_or_exported: "Locked or exported",
  both_changed: "Both changed",
  deleted_in_kimai: "Deleted in Kimai",
  orphaned: "Orphaned",
  unmapped_activity: "Unmapped activity",
  unmapped_user: "Unmapped user",
  unmapped_customer: "Unmapped customer",
  unmapped_project: "Unmapped project",
  kimai_rejected: "Kimai rejected",
  ambiguous_local_time: "Ambiguous local time",
  duplicate_timesheets: "Duplicate timesheets",
  project_locked: "Project locked in Kimai",
  no_room_on_day: "No room on the day",
};

export function actionsFor(reason: string): ResolveAction[] {
  return ACTIONS_BY_REASON[reason] ?? ["ignore"];
}

/** Actions that fit every reason among the selected conflicts (`link` names one timesheet: never in bulk). */
export function bulkActionsFor(reasons: string[]): ResolveAction[] {
  if (reasons.length === 0) return [];
  const sets = reasons.map((r) => new Set(actionsFor(r)));
  return actionsFor(reasons[0]).filter((a) => a !== "link" && sets.every((s) => s.has(a)));
}
