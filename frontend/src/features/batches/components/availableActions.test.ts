import { describe, expect, it } from 'vitest';

import type { Batch, BatchStatus, RecipientCounts } from '../../../api/types';
import { availableActions } from './BatchDetailPage';

function batch(status: BatchStatus, failed = 0): Batch {
  const counts: RecipientCounts = {
    staged: 0,
    queued: 0,
    processing: 0,
    sent: 1,
    failed,
    unsubscribed: 0,
    cancelled: 0,
  };
  return {
    id: 'b1',
    name: 'News',
    status,
    template_id: 't1',
    template_version_id: 'v1',
    template_version_number: 1,
    subject: 'News',
    sender_email: 'news@example.com',
    sender_name: null,
    transport: 'outbox',
    total: 1 + failed,
    counts,
    delivery: { delivered: 0, bounced: 0, opened: 0, clicked: 0, complained: 0 },
    created_at: '2026-03-01T10:00:00Z',
    launched_at: null,
    completed_at: null,
  };
}

describe('availableActions', () => {
  it('offers pause and cancel while running', () => {
    expect(availableActions(batch('running'))).toEqual(['pause', 'cancel']);
  });

  it('offers resume and cancel while paused', () => {
    expect(availableActions(batch('paused'))).toEqual(['resume', 'cancel']);
  });

  it('offers retry for a completed batch with failures only', () => {
    expect(availableActions(batch('completed', 2))).toEqual(['retry-failed']);
    expect(availableActions(batch('completed'))).toEqual([]);
  });

  it('offers nothing for a cancelled batch', () => {
    expect(availableActions(batch('cancelled', 3))).toEqual([]);
  });
});
