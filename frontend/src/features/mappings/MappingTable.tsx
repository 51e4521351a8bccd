import { useMemo, useState } from "react";
import { Download, Loader2, Plus, Trash2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { SearchPicker, type PickerOption } from "@/components/SearchPicker";
import { EmptyState } from "@/components/QueryState";
import { ChangeError } from "@/components/FieldErrors";
import { KIMAI_PICKER, exportMappings, useDeleteMapping, useKimaiPicker, useSetMapping, useZammadPicker, type MappingKind } from "./api";
import { CsvImport } from "./CsvImport";

const ZAMMAD_SIDE: Record<MappingKind, { label: string; picker: "types" | "organisations" | null }> = {
  activity: { label: "Zammad time type", picker: "types" },
  customer: { label: "Zammad organisation", picker: "organisations" },
  project: { label: "Zammad group id", picker: null },
  user: { label: "Zammad agent id", picker: null },
};

const KIMAI_SIDE: Record<MappingKind, string> = { activity: "Kimai activity", customer: "Kimai customer", project: "Kimai project", user: "Kimai user" };

function toOptions(items: { id: number; name: string; visible: boolean }[] | undefined): PickerOption[] {
  return (items ?? []).map((i) => ({ value: String(i.id), label: i.name, hint: `#${i.id}${i.visible ? "" : " · hidden"}`, muted: !i.visible }));
}

export function MappingTable({ kind, pairs, canEdit }: { kind: MappingKind; pairs: { zammad: string; kimai: number }[]; canEdit: boolean }) {
  const zammadSide = ZAMMAD_SIDE[kind];
  const zammadList = useZammadPicker(zammadSide.picker ?? "types", zammadSide.picker !== null);
  const kimaiList = useKimaiPicker(KIMAI_PICKER[kind]);
  const zammadOptions = useMemo(() => {
    const options = zammadSide.picker ? toOptions(zammadList.data) : [];
    return kind === "activity" ? [{ value: "none", label: "Time without a type" }, ...options] : options;
  }, [zammadList.data, zammadSide.picker, kind]);
  const kimaiOptions = useMemo(() => toOptions(kimaiList.data), [kimaiList.data]);
  const zammadName = (id: string) => zammadOptions.find((o) => o.value === id)?.label;
  const kimaiName = (id: number) => kimaiOptions.find((o) => o.value === String(id))?.label;

  const [zammad, setZammad] = useState<string>("");
  const [kimai, setKimai] = useState<string | null>(null);
  const set = useSetMapping();
  const remove = useDeleteMapping();
  const [exportError, setExportError] = useState<unknown>(null);

  async function download() {
    setExportError(null);
    try {
      const csv = await exportMappings(kind);
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `mappings-${kind}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      setExportError(e);
    }
  }

  return (
    <div className="space-y-5">
      <form
        className="grid grid-cols-[1fr_1fr_auto] items-end gap-3"
        aria-label={`Add ${kind} mapping`}
        onSubmit={(e) => {
          e.preventDefault();
          if (zammad && kimai) set.mutate({ kind, zammad, kimai: Number(kimai) }, { onSuccess: () => { setZammad(""); setKimai(null); } });
        }}
      >
        <div className="space-y-1.5">
          <Label htmlFor={`map-${kind}-zammad`}>{zammadSide.label}</Label>
          {zammadSide.picker ? (
            <SearchPicker id={`map-${kind}-zammad`} value={zammad || null} options={zammadOptions} onChange={setZammad} loading={zammadList.isPending} disabled={!canEdit} placeholder="Choose…" />
          ) : (
            <Input id={`map-${kind}-zammad`} inputMode="numeric" value={zammad} onChange={(e) => setZammad(e.target.value.trim())} disabled={!canEdit} placeholder="e.g. 7" />
          )}
        </div>
        <div className="space-y-1.5">
          <Label htmlFor={`map-${kind}-kimai`}>{KIMAI_SIDE[kind]}</Label>
          <SearchPicker id={`map-${kind}-kimai`} value={kimai} options={kimaiOptions} onChange={setKimai} loading={kimaiList.isPending} disabled={!canEdit} placeholder="Choose…" />
        </div>
        <Button type="submit" disabled={!canEdit || !zammad || !kimai || set.isPending}>
          {set.isPending ? <Loader2 className="animate-spin" aria-hidden /> : <Plus aria-hidden />} Add mapping
        </Button>
      </form>
      {kimaiList.error && <ChangeError error={kimaiList.error} />}
      {set.error && <ChangeError error={set.error} />}
      {remove.error && <ChangeError error={remove.error} />}

      {pairs.length === 0 ? (
        <EmptyState title={`No ${kind} mappings`}>Entries without a mapping use the policies' defaults, or become conflicts.</EmptyState>
      ) : (
        <div className="rounded-lg border">
          <Table aria-label={`${kind} mappings`}>
            <TableHeader>
              <TableRow>
                <TableHead>{zammadSide.label}</TableHead>
                <TableHead>{KIMAI_SIDE[kind]}</TableHead>
                <TableHead className="w-16">
                  <span className="sr-only">Actions</span>
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {pairs.map((p) => (
                <TableRow key={p.zammad} data-testid={`mapping-${kind}-${p.zammad}`}>
                  <TableCell>
                    {zammadName(p.zammad) ?? <span className="font-mono">{p.zammad}</span>} <span className="text-xs text-muted-foreground">#{p.zammad}</span>
                  </TableCell>
                  <TableCell>
                    {kimaiName(p.kimai) ?? "—"} <span className="text-xs text-muted-foreground">#{p.kimai}</span>
                  </TableCell>
                  <TableCell className="text-right">
                    <Button variant="ghost" size="icon" aria-label={`Remove mapping of ${p.zammad}`} disabled={!canEdit || remove.isPending} onClick={() => remove.mutate({ kind, zammad: p.zammad })}>
                      <Trash2 aria-hidden />
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}

      <details className="group rounded-lg border bg-muted/20 px-4 py-3">
        <summary className="cursor-pointer text-sm font-medium outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50">Import or export CSV</summary>
        <div className="mt-3 space-y-3">
          <CsvImport kind={kind} disabled={!canEdit} />
          <div className="flex items-center gap-3 border-t pt-3">
            <Button type="button" variant="outline" size="sm" onClick={download}>
              <Download aria-hidden /> Export CSV
            </Button>
            {exportError !== null && <ChangeError error={exportError} />}
          </div>
        </div>
      </details>
    </div>
  );
}
