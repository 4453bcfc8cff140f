import type { ErrorCode } from './types';

/** An error response from the API, or a request that never got one (`status` 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  readonly details: Record<string, unknown> | null;

  constructor(
    status: number,
    code: string,
    message: string,
    field: string | null = null,
    details: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
  }

  /** Seconds to wait before the next attempt, for `rate_limited` errors. */
  get retryAfter(): number | null {
    const value = this.details?.retry_after;
    return typeof value === 'number' ? value : null;
  }
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation_error',
  401: 'not_authenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_file',
  429: 'rate_limited',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Builds an ApiError from a response body. The API sends `{code, message, field, details}`;
 * anything else (a proxy's HTML page, an empty body) keeps the status and gets a generic message.
 */
export function parseErrorResponse(status: number, bodyText: string): ApiError {
  let body: unknown = null;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = null;
  }

  if (isRecord(body) && typeof body.message === 'string') {
    const code = typeof body.code === 'string' ? body.code : (CODE_BY_STATUS[status] ?? 'error');
    const field = typeof body.field === 'string' ? body.field : null;
    const details = isRecord(body.details) ? body.details : null;
    return new ApiError(status, code, body.message, field, details);
  }

  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'error');
  const message =
    status >= 500
      ? `The server failed with HTTP ${status}. Try again; if it keeps failing, check the server log.`
      : `The request failed with HTTP ${status}.`;
  return new ApiError(status, code, message);
}

/** Returns the message to show for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return 'Something went wrong. Try again.';
}
