import { describe, expect, it } from 'vitest';

import { DELIVERY_OUTCOMES, shareOfSent } from './delivery';

describe('shareOfSent', () => {
  it('formats the share with at most one decimal', () => {
    expect(shareOfSent(1, 8)).toBe('12.5 % of sent');
    expect(shareOfSent(2, 3)).toBe('66.7 % of sent');
    expect(shareOfSent(50, 50)).toBe('100 % of sent');
  });

  it('keeps tenths of a percent for complaint rates', () => {
    expect(shareOfSent(3, 1000)).toBe('0.3 % of sent');
  });

  it('shows 0 % when the webhook reported nothing', () => {
    expect(shareOfSent(0, 40)).toBe('0 % of sent');
  });

  it('returns null while nothing is sent', () => {
    expect(shareOfSent(0, 0)).toBeNull();
    expect(shareOfSent(3, 0)).toBeNull();
  });
});

describe('DELIVERY_OUTCOMES', () => {
  it('lists each delivery count once, in the card order', () => {
    expect(DELIVERY_OUTCOMES.map((outcome) => outcome.key)).toEqual([
      'delivered',
      'bounced',
      'opened',
      'clicked',
      'complained',
    ]);
  });
});
