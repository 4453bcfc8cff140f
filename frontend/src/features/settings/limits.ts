import type { Settings, SettingsUpdate } from '../../api/types';
import { formatNumber } from '../../lib/format';

export type LimitField = 'hourly_limit' | 'daily_limit' | 'provider_rate_per_second' | 'send_concurrency';

export interface LimitSpec {
  field: LimitField;
  label: string;
  hint: string;
  /** The range the API accepts. The API checks it and the form only shows it. */
  min: number;
  max: number;
}

export const LIMIT_SPECS: readonly LimitSpec[] = [
  {
    field: 'hourly_limit',
    label: 'Hourly limit (messages per hour)',
    hint: '0 = no limit.',
    min: 0,
    max: 1_000_000_000,
  },
  {
    field: 'daily_limit',
    label: 'Daily limit (messages per day)',
    hint: "0 = no limit. Brevo's free plan allows 300 messages a day.",
    min: 0,
    max: 1_000_000_000,
  },
  {
    field: 'provider_rate_per_second',
    label: 'Request rate (requests per second)',
    hint: 'Requests per second to Brevo, 1 to 1,000.',
    min: 1,
    max: 1_000,
  },
  {
    field: 'send_concurrency',
    label: 'Concurrency (parallel requests)',
    hint: 'Requests to Brevo in flight at once, 1 to 16.',
    min: 1,
    max: 16,
  },
];

/** The text of each limit input, as the operator typed it. */
export type LimitValues = Record<LimitField, string>;

export type LimitErrors = Partial<Record<LimitField, string>>;

export interface ParsedLimits {
  /** Only the limits that differ from the saved settings. */
  update: SettingsUpdate;
  errors: LimitErrors;
}

export function limitValues(settings: Settings): LimitValues {
  return {
    hourly_limit: String(settings.hourly_limit),
    daily_limit: String(settings.daily_limit),
    provider_rate_per_second: String(settings.provider_rate_per_second),
    send_concurrency: String(settings.send_concurrency),
  };
}

const WHOLE_NUMBER = /^\d+$/;

/**
 * Reads the limit inputs into a settings update. Text that is not a whole number gets an error
 * here, because it cannot be sent as a number. The API checks the range, and the form shows its
 * field error next to the input.
 */
export function parseLimits(values: LimitValues, saved: Settings): ParsedLimits {
  const update: SettingsUpdate = {};
  const errors: LimitErrors = {};

  for (const spec of LIMIT_SPECS) {
    // Accept the thousands separators that the numbers are shown with elsewhere.
    const text = values[spec.field].trim().replaceAll(',', '');
    const range = `Enter a number from ${formatNumber(spec.min)} to ${formatNumber(spec.max)}.`;
    if (text === '') {
      errors[spec.field] = `This limit is missing. ${range}`;
      continue;
    }
    if (!WHOLE_NUMBER.test(text)) {
      errors[spec.field] = `'${values[spec.field].trim()}' is not a whole number. ${range}`;
      continue;
    }

    const value = Number(text);
    if (value !== saved[spec.field]) {
      update[spec.field] = value;
    }
  }
  return { update, errors };
}

/** Tells whether the inputs differ from the saved settings, ignoring blanks around the numbers. */
export function limitsChanged(values: LimitValues, saved: Settings): boolean {
  const before = limitValues(saved);
  return LIMIT_SPECS.some((spec) => values[spec.field].trim() !== before[spec.field]);
}
