import { describe, expect, it } from 'vitest';

import type { Batch, BatchProgressEvent, Page, Recipient, RecipientCounts, RecipientUpdatedEvent } from '../api/types';
import {
  applyBatchProgress,
  applyBatchProgressToPage,
  applyRecipientUpdate,
  applyRecipientUpdateToPage,
  initialLiveState,
  liveReducer,
  parseLiveFrame,
} from './reducer';
import { reconnectDelay } from './socket';

function counts(values: Partial<RecipientCounts>): RecipientCounts {
  return { staged: 0, queued: 0, processing: 0, sent: 0, failed: 0, unsubscribed: 0, cancelled: 0, ...values };
}

function batch(values: Partial<Batch> = {}): Batch {
  return {
    id: 'b1',
    name: 'March newsletter',
    status: 'running',
    template_id: 't1',
    template_version_id: 'v1',
    template_version_number: 3,
    subject: 'News',
    sender_email: 'news@example.com',
    sender_name: 'News',
    transport: 'outbox',
    total: 10,
    counts: counts({ queued: 8, sent: 2 }),
    delivery: { delivered: 0, bounced: 0, opened: 0, clicked: 0, complained: 0 },
    created_at: '2026-03-01T10:00:00Z',
    launched_at: '2026-03-01T10:05:00Z',
    completed_at: null,
    ...values,
  };
}

function progress(values: Partial<BatchProgressEvent> = {}): BatchProgressEvent {
  return {
    type: 'batch.progress',
    batch_id: 'b1',
    status: 'running',
    counts: counts({ queued: 5, sent: 5 }),
    total: 10,
    rate: 4.5,
    eta_seconds: 2,
    ...values,
  };
}

function recipient(values: Partial<Recipient> = {}): Recipient {
  return {
    id: 'r1',
    email: 'jane@example.com',
    status: 'queued',
    row_number: 2,
    fields: { first_name: 'Jane' },
    error: null,
    provider_message_id: null,
    attempts: 0,
    sent_at: null,
    updated_at: '2026-03-01T10:05:00Z',
    ...values,
  };
}

function recipientEvent(values: Partial<RecipientUpdatedEvent> = {}): RecipientUpdatedEvent {
  return {
    type: 'recipient.updated',
    batch_id: 'b1',
    recipient_id: 'r1',
    email: 'jane@example.com',
    status: 'sent',
    error: null,
    at: '2026-03-01T10:06:00Z',
    ...values,
  };
}

describe('liveReducer', () => {
  it('counts each open of the socket', () => {
    let state = liveReducer(initialLiveState, { type: 'connection', status: 'connecting' });
    state = liveReducer(state, { type: 'connection', status: 'open' });
    state = liveReducer(state, { type: 'connection', status: 'reconnecting' });
    state = liveReducer(state, { type: 'connection', status: 'open' });

    expect(state.connection).toBe('open');
    expect(state.opens).toBe(2);
  });

  it('keeps the same state for a repeated status', () => {
    const open = liveReducer(initialLiveState, { type: 'connection', status: 'open' });

    expect(liveReducer(open, { type: 'connection', status: 'open' })).toBe(open);
  });

  it('stores the latest progress per batch', () => {
    let state = liveReducer(initialLiveState, { type: 'event', event: progress() });
    state = liveReducer(state, { type: 'event', event: progress({ batch_id: 'b2', total: 3 }) });
    state = liveReducer(state, {
      type: 'event',
      event: progress({ status: 'completed', counts: counts({ sent: 10 }), rate: null, eta_seconds: null }),
    });

    expect(state.batches.b1?.status).toBe('completed');
    expect(state.batches.b1?.counts.sent).toBe(10);
    expect(state.batches.b1?.etaSeconds).toBeNull();
    expect(state.batches.b2?.total).toBe(3);
  });

  it('ignores recipient events in the batch map', () => {
    expect(liveReducer(initialLiveState, { type: 'event', event: recipientEvent() })).toBe(initialLiveState);
  });
});

describe('applyBatchProgress', () => {
  it('sets and clears the throttle time', () => {
    const throttled = applyBatchProgress(batch(), progress({ throttled_until: '2026-03-02T00:00:00Z' }));
    const resumed = applyBatchProgress(throttled, progress({ throttled_until: null }));

    expect(throttled.throttled_until).toBe('2026-03-02T00:00:00Z');
    expect(resumed.throttled_until).toBeNull();
  });

  it('replaces counts, total and status', () => {
    const updated = applyBatchProgress(batch(), progress({ status: 'completed', counts: counts({ sent: 10 }) }));

    expect(updated.status).toBe('completed');
    expect(updated.counts.sent).toBe(10);
    expect(updated.counts.queued).toBe(0);
  });

  it('ignores an event older than the snapshot', () => {
    const snapshot = batch({ counts: counts({ queued: 2, sent: 8 }) });

    expect(applyBatchProgress(snapshot, progress({ counts: counts({ queued: 5, sent: 5 }) }))).toBe(snapshot);
  });

  it('never moves a completed batch back to running', () => {
    const snapshot = batch({ status: 'completed', counts: counts({ sent: 10 }) });

    expect(applyBatchProgress(snapshot, progress({ counts: counts({ sent: 10 }) }))).toBe(snapshot);
  });

  it('applies pause without new finished recipients', () => {
    const updated = applyBatchProgress(batch(), progress({ status: 'paused', counts: counts({ queued: 8, sent: 2 }) }));

    expect(updated.status).toBe('paused');
  });

  it('leaves another batch alone', () => {
    const other = batch({ id: 'b9' });

    expect(applyBatchProgress(other, progress())).toBe(other);
  });

  it('returns the same page when the batch is not on it', () => {
    const page: Page<Batch> = { items: [batch({ id: 'b9' })], next_cursor: null };

    expect(applyBatchProgressToPage(page, progress())).toBe(page);
  });

  it('updates the matching row of a page', () => {
    const page: Page<Batch> = { items: [batch({ id: 'b0' }), batch()], next_cursor: 'c2' };

    const updated = applyBatchProgressToPage(page, progress());

    expect(updated.items[1]?.counts.sent).toBe(5);
    expect(updated.items[0]).toBe(page.items[0]);
    expect(updated.next_cursor).toBe('c2');
  });
});

describe('applyRecipientUpdate', () => {
  it('sets status, error and sent time', () => {
    const updated = applyRecipientUpdate(recipient(), recipientEvent());

    expect(updated.status).toBe('sent');
    expect(updated.sent_at).toBe('2026-03-01T10:06:00Z');
    expect(updated.updated_at).toBe('2026-03-01T10:06:00Z');
  });

  it('records the error of a failed recipient', () => {
    const updated = applyRecipientUpdate(
      recipient(),
      recipientEvent({ status: 'failed', error: 'Brevo rejected the address (400 invalid_parameter).' }),
    );

    expect(updated.status).toBe('failed');
    expect(updated.error).toContain('Brevo rejected');
    expect(updated.sent_at).toBeNull();
  });

  it('ignores an event older than the snapshot', () => {
    const snapshot = recipient({ status: 'sent', updated_at: '2026-03-01T10:07:00Z' });

    expect(applyRecipientUpdate(snapshot, recipientEvent({ status: 'processing' }))).toBe(snapshot);
  });

  it('updates only the matching row of a page', () => {
    const page: Page<Recipient> = { items: [recipient({ id: 'r0' }), recipient()], next_cursor: null };

    const updated = applyRecipientUpdateToPage(page, recipientEvent());

    expect(updated.items[0]).toBe(page.items[0]);
    expect(updated.items[1]?.status).toBe('sent');
  });
});

describe('parseLiveFrame', () => {
  it('parses a progress event and fills missing counts with 0', () => {
    const events = parseLiveFrame(
      JSON.stringify({ type: 'batch.progress', batch_id: 'b1', status: 'running', counts: { sent: 3 }, total: 9 }),
    );

    expect(events).toEqual([
      {
        type: 'batch.progress',
        batch_id: 'b1',
        status: 'running',
        counts: counts({ sent: 3 }),
        total: 9,
        rate: null,
        eta_seconds: null,
      },
    ]);
  });

  it('parses a recipient event', () => {
    expect(parseLiveFrame(JSON.stringify(recipientEvent()))).toEqual([recipientEvent()]);
  });

  it('parses an array of coalesced events in order', () => {
    const frame = JSON.stringify([
      recipientEvent({ recipient_id: 'r1' }),
      recipientEvent({ recipient_id: 'r2' }),
      progress(),
    ]);

    const events = parseLiveFrame(frame);

    expect(events.map((event) => event.type)).toEqual(['recipient.updated', 'recipient.updated', 'batch.progress']);
    expect(events[1]).toEqual(recipientEvent({ recipient_id: 'r2' }));
  });

  it('drops unknown events and keeps the rest of the frame', () => {
    const frame = JSON.stringify([{ type: 'batch.deleted', batch_id: 'b1' }, recipientEvent()]);

    expect(parseLiveFrame(frame)).toEqual([recipientEvent()]);
  });

  it.each([
    ['not JSON', 'hello'],
    ['an unknown type', JSON.stringify({ type: 'batch.deleted', batch_id: 'b1' })],
    ['an unknown status', JSON.stringify({ ...recipientEvent(), status: 'delivered' })],
    ['no batch id', JSON.stringify({ type: 'batch.progress', status: 'running', counts: {} })],
  ])('returns no event for %s', (_case, text) => {
    expect(parseLiveFrame(text)).toEqual([]);
  });
});

describe('reconnectDelay', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    const full = () => 1;

    expect([0, 1, 2, 3, 4, 5, 10].map((attempt) => reconnectDelay(attempt, full))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
  });

  it('waits at least half the delay', () => {
    expect(reconnectDelay(3, () => 0)).toBe(4000);
  });
});
