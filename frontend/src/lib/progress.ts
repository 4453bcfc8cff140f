import type { RecipientCounts, RecipientStatus } from '../api/types';

/** Recipient states a batch never leaves once reached (short of an explicit retry). */
export const FINISHED_STATES: readonly RecipientStatus[] = ['sent', 'failed', 'unsubscribed', 'cancelled'];

export interface BatchProgress {
  finished: number;
  total: number;
  /** Whole percent from 0 to 100, rounded down so 100 means every recipient finished. */
  percent: number;
}

export function finishedCount(counts: Partial<RecipientCounts>): number {
  return FINISHED_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
}

/** Computes (sent + failed + unsubscribed + cancelled) / total. */
export function computeProgress(counts: Partial<RecipientCounts>, total: number): BatchProgress {
  const finished = finishedCount(counts);
  if (total <= 0) {
    return { finished, total: 0, percent: 0 };
  }
  const percent = Math.min(100, Math.max(0, Math.floor((finished / total) * 100)));
  return { finished, total, percent };
}
