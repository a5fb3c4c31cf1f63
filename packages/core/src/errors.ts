// Error codes and response envelopes of the wire contract (seed: afftok-api-reference.md).
// Every refusal anywhere in the platform is built here so the shape never drifts.

export const ERROR_STATUS = {
  INVALID_PARAMS: 400,
  INVALID_API_KEY: 401,
  UNAUTHORIZED: 401,
  INVALID_SIGNATURE: 403,
  FORBIDDEN: 403,
  GEO_BLOCKED: 403,
  IP_NOT_ALLOWED: 403,
  EXPIRED_REQUEST: 401,
  REPLAYED_REQUEST: 409,
  INVALID_OFFER: 404,
  NOT_FOUND: 404,
  DUPLICATE_TRANSACTION: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  success: false;
  error: string;
  code: ErrorCode;
}

export interface SuccessBody<T> {
  success: true;
  message?: string;
  data: T;
}

export function errorBody(code: ErrorCode, error: string): ErrorBody {
  return { success: false, error, code };
}

export function successBody<T>(data: T, message?: string): SuccessBody<T> {
  return message === undefined ? { success: true, data } : { success: true, message, data };
}

/** An error a handler throws to answer with the seed's envelope and status. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.status = ERROR_STATUS[code];
  }
  toBody(): ErrorBody {
    return errorBody(this.code, this.message);
  }
}
