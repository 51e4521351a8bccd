import { Badge } from "@/components/ui/badge";

const VARIANT = { running: "info", succeeded: "success", failed: "destructive", cancelled: "secondary" } as const;

export function RunStateBadge({ state }: { state: string }) {
  return <Badge variant={VARIANT[state as keyof typeof VARIANT] ?? "outline"}>{state}</Badge>;
}
