// Errors answered the way Fastly's management API answers them: JSON `{"msg", "detail"?}` (the
// "legacy" shape go-fastly decodes into Title/Detail), e.g. 404 `{"msg":"Record not found"}`.

/** A request failure with the HTTP status and body Fastly would send. */
export class ApiError extends Error {
  /** HTTP status code. */
  readonly status: number;
  /** Optional second line; go-fastly shows it as `Detail`. */
  readonly detail: string | undefined;
  /** True when Fastly answers with an empty body (the KV store's 412s do). */
  readonly emptyBody: boolean;

  constructor(status: number, msg: string, detail?: string, emptyBody = false) {
    super(msg);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.emptyBody = emptyBody;
  }
}

/** The 404 body Fastly sends for every missing store, item or unknown path. */
export const RECORD_NOT_FOUND = 'Record not found';

/** 404 `{"msg":"Record not found"}`. */
export function notFound(detail?: string): ApiError {
  return new ApiError(404, RECORD_NOT_FOUND, detail);
}

/** 400 with a message saying what is wrong with the request. */
export function badRequest(msg: string, detail?: string): ApiError {
  return new ApiError(400, msg, detail);
}

/** 409 for a name that is already taken. */
export function conflict(detail: string): ApiError {
  return new ApiError(409, 'Conflict', detail);
}

/** 412 with the empty body Fastly's KV store sends when a precondition fails. */
export function preconditionFailed(): ApiError {
  return new ApiError(412, 'Precondition Failed', undefined, true);
}

/** The JSON body for an error: `{"msg"}` plus `detail` when there is one. */
export function errorBody(err: ApiError): string {
  if (err.emptyBody) return '';
  return JSON.stringify(
    err.detail === undefined ? { msg: err.message } : { msg: err.message, detail: err.detail },
  );
}
