/** One bad field, CSV row (`row 3`) or part of the request, as the API's problems list them. */
export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem as the console API sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string | null;
  request_id?: string;
  errors?: FieldError[] | null;
}

/**
 * A failed call, classified for what the screen should do: `unauthorized` goes back to login,
 * `forbidden` is a viewer's attempt, `not_available` is a route this API does not have (yet),
 * `conflict` is a stale version or an already-made decision (reload), `invalid` has field errors
 * to show, `unavailable` and `network` are worth retrying later.
 */
export type ApiErrorKind =
  | "unauthorized"
  | "forbidden"
  | "not_available"
  | "not_found"
  | "conflict"
  | "invalid"
  | "throttled"
  | "upstream"
  | "unavailable"
  | "network"
  | "server";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number;
  readonly problem: Problem | null;

  constructor(kind: ApiErrorKind, status: number, problem: Problem | null, message?: string) {
    super(message ?? problem?.detail ?? problem?.title ?? `request failed (${status})`);
    this.kind = kind;
    this.status = status;
    this.problem = problem;
  }

  get fieldErrors(): FieldError[] {
    return this.problem?.errors ?? [];
  }

  /** Whether trying again later may help (the screen offers a retry). */
  get retryable(): boolean {
    return this.kind === "unavailable" || this.kind === "network" || this.kind === "upstream" || this.kind === "throttled";
  }
}

/** The API answers a path it has no route for with a 404 whose detail is "no resource at <path>". */
function isUnknownRoute(problem: Problem | null): boolean {
  return (problem?.detail ?? "").startsWith("no resource at ");
}

export function classify(status: number, problem: Problem | null, routeKnown: boolean): ApiError {
  let kind: ApiErrorKind;
  if (status === 401) kind = "unauthorized";
  else if (status === 403) kind = "forbidden";
  else if (status === 404) kind = !routeKnown || isUnknownRoute(problem) ? "not_available" : "not_found";
  else if (status === 405 || status === 501) kind = "not_available";
  else if (status === 409 || status === 412) kind = "conflict";
  else if (status === 400 || status === 413 || status === 422) kind = "invalid";
  else if (status === 429) kind = "throttled";
  else if (status === 502 || status === 504) kind = "upstream";
  else if (status === 503) kind = "unavailable";
  else kind = "server";
  return new ApiError(kind, status, problem);
}

export async function readProblem(response: Response): Promise<Problem | null> {
  try {
    const body = await response.clone().json();
    return body && typeof body === "object" ? (body as Problem) : null;
  } catch {
    return null;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    switch (error.kind) {
      case "network":
        return "The API could not be reached. Check the connection and try again.";
      case "forbidden":
        return "Your role may only read. Ask an admin to make this change.";
      case "not_available":
        return "This API does not offer this yet.";
      default:
        return error.message;
    }
  }
  return error instanceof Error ? error.message : String(error);
}
