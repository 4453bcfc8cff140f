import { describe, expect, it } from 'vitest';

import { limitsChanged, limitValues, parseLimits, type LimitValues } from './limits';
import { settingsFixture } from './testSettings';

const saved = settingsFixture({
  hourly_limit: 0,
  daily_limit: 5000,
  provider_rate_per_second: 10,
  send_concurrency: 2,
});

function values(change: Partial<LimitValues>): LimitValues {
  return { ...limitValues(saved), ...change };
}

describe('limitValues', () => {
  it('writes each saved limit as text', () => {
    expect(limitValues(saved)).toEqual({
      hourly_limit: '0',
      daily_limit: '5000',
      provider_rate_per_second: '10',
      send_concurrency: '2',
    });
  });
});

describe('parseLimits', () => {
  it('sends only the limits that changed', () => {
    const parsed = parseLimits(values({ daily_limit: '300', send_concurrency: '4' }), saved);

    expect(parsed.errors).toEqual({});
    expect(parsed.update).toEqual({ daily_limit: 300, send_concurrency: 4 });
  });

  it('returns an empty update when nothing changed', () => {
    expect(parseLimits(values({}), saved)).toEqual({ update: {}, errors: {} });
  });

  it('accepts blanks around the number and thousands separators', () => {
    const parsed = parseLimits(values({ hourly_limit: ' 1,000 ' }), saved);

    expect(parsed.errors).toEqual({});
    expect(parsed.update).toEqual({ hourly_limit: 1000 });
  });

  it('rejects a blank limit with its range', () => {
    const parsed = parseLimits(values({ provider_rate_per_second: '  ' }), saved);

    expect(parsed.errors.provider_rate_per_second).toBe('This limit is missing. Enter a number from 1 to 1,000.');
    expect(parsed.update).toEqual({});
  });

  it('rejects fractions, signs and exponents', () => {
    for (const text of ['1.5', '-1', '1e3', 'ten']) {
      const parsed = parseLimits(values({ daily_limit: text }), saved);

      expect(parsed.errors.daily_limit).toBe(
        `'${text}' is not a whole number. Enter a number from 0 to 1,000,000,000.`,
      );
      expect(parsed.update).toEqual({});
    }
  });

  it('leaves the range to the API', () => {
    const parsed = parseLimits(values({ send_concurrency: '99' }), saved);

    expect(parsed.errors).toEqual({});
    expect(parsed.update).toEqual({ send_concurrency: 99 });
  });

  it('keeps valid changes next to an invalid one', () => {
    const parsed = parseLimits(values({ hourly_limit: '100', send_concurrency: 'x' }), saved);

    expect(Object.keys(parsed.errors)).toEqual(['send_concurrency']);
    expect(parsed.update).toEqual({ hourly_limit: 100 });
  });
});

describe('limitsChanged', () => {
  it('is false for the saved values, with or without blanks', () => {
    expect(limitsChanged(values({}), saved)).toBe(false);
    expect(limitsChanged(values({ daily_limit: ' 5000 ' }), saved)).toBe(false);
  });

  it('is true when one limit differs', () => {
    expect(limitsChanged(values({ send_concurrency: '3' }), saved)).toBe(true);
  });
});
