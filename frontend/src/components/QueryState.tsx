import type { ReactNode } from "react";
import { AlertCircle, Inbox, Plug, RotateCw } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { ApiError, errorMessage } from "@/api/errors";
import { cn } from "@/lib/utils";

export function LoadingState({ rows = 3, className }: { rows?: number; className?: string }) {
  return (
    <div className={cn("space-y-2", className)} aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} className="h-8 w-full" />
      ))}
    </div>
  );
}

export function EmptyState({ title, children, className }: { title: string; children?: ReactNode; className?: string }) {
  return (
    <div className={cn("flex flex-col items-center justify-center gap-1 rounded-lg border border-dashed px-6 py-10 text-center", className)}>
      <Inbox className="mb-1 size-5 text-muted-foreground" aria-hidden />
      <p className="text-sm font-medium">{title}</p>
      {children && <div className="text-sm text-muted-foreground">{children}</div>}
    </div>
  );
}

/** A route this API does not offer (yet): said plainly, never a crash. */
export function NotAvailable({ what, className }: { what: string; className?: string }) {
  return (
    <div className={cn("flex items-center gap-3 rounded-lg border border-dashed bg-muted/30 px-4 py-6 text-sm", className)} data-testid="not-available">
      <Plug className="size-4 shrink-0 text-muted-foreground" aria-hidden />
      <div>
        <span className="font-medium">{what} is not available.</span>{" "}
        <span className="text-muted-foreground">This API does not offer it yet.</span>
      </div>
    </div>
  );
}

export function ErrorState({ error, retry, what, className }: { error: unknown; retry?: () => void; what: string; className?: string }) {
  if (error instanceof ApiError && error.kind === "not_available") return <NotAvailable what={what} className={className} />;
  return (
    <div role="alert" className={cn("flex items-start gap-3 rounded-lg border border-red-200 bg-red-50/60 px-4 py-4 text-sm", className)}>
      <AlertCircle className="mt-0.5 size-4 shrink-0 text-red-600" aria-hidden />
      <div className="flex-1">
        <p className="font-medium text-red-800">{what} could not be loaded.</p>
        <p className="text-red-700/90">{errorMessage(error)}</p>
      </div>
      {retry && (
        <Button variant="outline" size="sm" onClick={retry}>
          <RotateCw aria-hidden /> Retry
        </Button>
      )}
    </div>
  );
}

/** Renders loading, error (or not available) and empty states around a query's data. */
export function QueryState<T>({
  query,
  what,
  isEmpty,
  empty,
  rows,
  children,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean; refetch: () => unknown };
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  rows?: number;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <LoadingState rows={rows} />;
  if (query.error || query.data === undefined) return <ErrorState error={query.error} what={what} retry={() => query.refetch()} />;
  if (isEmpty && isEmpty(query.data)) return <>{empty ?? <EmptyState title={`No ${what.toLowerCase()} yet`} />}</>;
  return <>{children(query.data)}</>;
}
