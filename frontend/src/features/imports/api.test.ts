import { describe, expect, it } from 'vitest';

import { errorReportUrl } from './api';

describe('errorReportUrl', () => {
  it('points at the whole report without a reason', () => {
    expect(errorReportUrl('abc', '')).toBe('/api/v1/imports/abc/errors.csv');
  });

  it('passes the reason filter as a query parameter', () => {
    expect(errorReportUrl('abc', 'invalid_email')).toBe('/api/v1/imports/abc/errors.csv?reason=invalid_email');
  });
});
