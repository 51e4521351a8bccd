import { ApiError, errorMessage } from "@/api/errors";

/** A failed change: the message, and every field or CSV row the API named. */
export function ChangeError({ error }: { error: unknown }) {
  if (!error) return null;
  const fields = error instanceof ApiError ? error.fieldErrors : [];
  return (
    <div role="alert" className="rounded-md border border-red-200 bg-red-50/70 px-3 py-2 text-sm text-red-800">
      <p className="font-medium">{errorMessage(error)}</p>
      {fields.length > 0 && (
        <ul className="mt-1 list-disc space-y-0.5 pl-5" aria-label="Problems">
          {fields.map((f, i) => (
            <li key={`${f.field}-${i}`}>
              <span className="font-mono text-xs">{f.field}</span>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.fieldErrors.find((f) => f.field === field)?.message;
}
