import { AlertTriangle } from "lucide-react";
import type { KimaiOutage } from "@/api/operations";
import { formatDateTime } from "@/lib/format";

/** "Kimai unreachable since …, N messages waiting": the functions let records wait for Kimai. */
export function OutageLine({ outage }: { outage: KimaiOutage }) {
  const n = outage.messagesWaiting;
  const waiting = n === null ? "" : `, ${n} ${n === 1 ? "message" : "messages"} waiting`;
  return (
    <p role="status" className="mt-2 flex items-start gap-2 rounded-md bg-amber-50 p-2 text-xs text-amber-900" data-testid="kimai-outage" title={outage.detail}>
      <AlertTriangle className="mt-0.5 size-3.5 shrink-0" aria-hidden />
      <span>
        Kimai unreachable since {formatDateTime(outage.since)}
        {waiting}
      </span>
    </p>
  );
}
