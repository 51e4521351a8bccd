import type { FieldError } from "@/api/errors";

export interface RowError {
  /** 1-based line of the file (the header is row 1), or null for the file as a whole. */
  row: number | null;
  message: string;
}

/** The API names a bad row `row 3`; anything else (`body`, `query`) is about the whole file. */
export function rowErrors(errors: FieldError[]): RowError[] {
  return errors
    .map((e) => {
      const m = /^row (\d+)$/.exec(e.field);
      return { row: m ? Number(m[1]) : null, message: e.message };
    })
    .sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
}

/** Lines of the file, so an error can show the row it is about. */
export function csvLine(csv: string, row: number): string | undefined {
  return csv.split(/\r?\n/)[row - 1];
}
