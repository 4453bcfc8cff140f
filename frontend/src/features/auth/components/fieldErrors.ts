import { ApiError } from '../../../api';

export interface FormErrors {
  /** Messages keyed by the API's `field`. */
  fields: Record<string, string>;
  /** A message that names no field, shown above the form. */
  form: string | null;
}

export const NO_ERRORS: FormErrors = { fields: {}, form: null };

/** Puts an API error next to the input it names, or above the form when it names none. */
export function formErrorsFrom(error: unknown, knownFields: readonly string[]): FormErrors {
  if (error instanceof ApiError && error.field !== null && knownFields.includes(error.field)) {
    return { fields: { [error.field]: error.message }, form: null };
  }
  if (error instanceof ApiError && error.code === 'rate_limited' && error.retryAfter !== null) {
    const minutes = Math.ceil(error.retryAfter / 60);
    return { fields: {}, form: `${error.message} Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` };
  }
  if (error instanceof Error) {
    return { fields: {}, form: error.message };
  }
  return NO_ERRORS;
}
