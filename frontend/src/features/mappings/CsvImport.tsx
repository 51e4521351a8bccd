import { useRef, useState } from "react";
import { FileUp, Loader2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { Textarea } from "@/components/ui/textarea";
import { ApiError, errorMessage } from "@/api/errors";
import { useImportMappings, type MappingKind } from "./api";
import { csvLine, rowErrors } from "./csvErrors";

/** The errors of a refused import, one line per bad row, with the row's text. */
export function CsvErrorList({ error, csv }: { error: unknown; csv: string }) {
  const rows = error instanceof ApiError ? rowErrors(error.fieldErrors) : [];
  return (
    <div role="alert" className="rounded-md border border-red-200 bg-red-50/60 p-3 text-sm" data-testid="csv-errors">
      <p className="font-medium text-red-800">Nothing was imported: {rows.length > 0 ? `${rows.length} row${rows.length > 1 ? "s" : ""} need fixing.` : errorMessage(error)}</p>
      {rows.length > 0 && (
        <table className="mt-2 w-full text-left text-xs">
          <thead className="text-red-900/70">
            <tr>
              <th className="w-14 py-1 font-medium">Row</th>
              <th className="w-40 py-1 font-medium">Content</th>
              <th className="py-1 font-medium">Problem</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i} className="border-t border-red-200/70 align-top">
                <td className="py-1 tabular-nums">{r.row ?? "file"}</td>
                <td className="py-1 font-mono">{r.row ? (csvLine(csv, r.row) ?? "") : ""}</td>
                <td className="py-1 text-red-800">{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function CsvImport({ kind, disabled }: { kind: MappingKind; disabled: boolean }) {
  const [csv, setCsv] = useState("");
  const [mode, setMode] = useState<"merge" | "replace">("merge");
  const file = useRef<HTMLInputElement>(null);
  const importer = useImportMappings();

  async function pick(files: FileList | null) {
    const f = files?.[0];
    if (f) setCsv(await f.text());
  }

  return (
    <div className="space-y-3">
      <div className="flex items-end gap-3">
        <div className="flex-1 space-y-1.5">
          <Label htmlFor={`csv-${kind}`}>CSV (`zammad,kimai`)</Label>
          <Textarea id={`csv-${kind}`} rows={4} className="font-mono text-xs" value={csv} onChange={(e) => setCsv(e.target.value)} placeholder={"zammad,kimai\n3,12"} disabled={disabled} />
        </div>
        <div className="w-40 space-y-2">
          <Label htmlFor={`csv-mode-${kind}`}>Mode</Label>
          <NativeSelect id={`csv-mode-${kind}`} value={mode} onChange={(e) => setMode(e.target.value as "merge" | "replace")} disabled={disabled}>
            <option value="merge">Merge</option>
            <option value="replace">Replace all</option>
          </NativeSelect>
          <input ref={file} type="file" accept=".csv,text/csv" className="sr-only" aria-label="CSV file" onChange={(e) => pick(e.target.files)} tabIndex={-1} />
          <Button type="button" variant="outline" size="sm" className="w-full" onClick={() => file.current?.click()} disabled={disabled}>
            <FileUp aria-hidden /> Choose file
          </Button>
        </div>
      </div>
      <div className="flex items-center gap-3">
        <Button type="button" size="sm" disabled={disabled || !csv.trim() || importer.isPending} onClick={() => importer.mutate({ kind, csv, mode })}>
          {importer.isPending && <Loader2 className="animate-spin" aria-hidden />} Import
        </Button>
        {importer.isSuccess && <span className="text-sm text-emerald-700" role="status">Imported {importer.data.rows} rows.</span>}
      </div>
      {importer.error && <CsvErrorList error={importer.error} csv={csv} />}
    </div>
  );
}
