import { describe, expect, it } from 'vitest';

import type { RecipientCounts } from '../api/types';
import { computeProgress, finishedCount } from './progress';

function counts(values: Partial<RecipientCounts>): RecipientCounts {
  return { staged: 0, queued: 0, processing: 0, sent: 0, failed: 0, unsubscribed: 0, cancelled: 0, ...values };
}

describe('computeProgress', () => {
  it('counts sent, failed, unsubscribed and cancelled as finished', () => {
    const progress = computeProgress(counts({ sent: 5, failed: 2, unsubscribed: 1, cancelled: 2, queued: 10 }), 20);

    expect(progress.finished).toBe(10);
    expect(progress.percent).toBe(50);
  });

  it('ignores staged, queued and processing', () => {
    expect(finishedCount(counts({ staged: 3, queued: 4, processing: 5 }))).toBe(0);
  });

  it('rounds down so 100 means done', () => {
    expect(computeProgress(counts({ sent: 999 }), 1000).percent).toBe(99);
    expect(computeProgress(counts({ sent: 1000 }), 1000).percent).toBe(100);
  });

  it('returns 0 for an empty batch', () => {
    expect(computeProgress(counts({}), 0)).toEqual({ finished: 0, total: 0, percent: 0 });
  });

  it('caps at 100 when counts exceed the total', () => {
    expect(computeProgress(counts({ sent: 12 }), 10).percent).toBe(100);
  });

  it('treats missing states as zero', () => {
    expect(computeProgress({ sent: 1 }, 4).percent).toBe(25);
  });
});
