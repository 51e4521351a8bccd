/**
 * Links out of the console, built from the connections' base URLs: Zammad's ticket view
 * (`/#ticket/zoom/<id>`, its SPA route) and Kimai's team timesheet edit page
 * (`/<locale>/team/timesheet/<id>/edit`, the route for other users' timesheets; docs/kimai.md).
 */
function origin(base: string | null | undefined): string | null {
  if (!base) return null;
  try {
    const url = new URL(base);
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return null;
  }
}

export function zammadTicketUrl(base: string | null | undefined, ticketId: number): string | null {
  const o = origin(base);
  return o ? `${o}/#ticket/zoom/${ticketId}` : null;
}

export function kimaiTimesheetUrl(base: string | null | undefined, timesheetId: number | null | undefined, locale = "en"): string | null {
  const o = origin(base);
  return o && timesheetId ? `${o}/${locale}/team/timesheet/${timesheetId}/edit` : null;
}
