import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';

import type { Batch, ImportFile, RecipientCounts, Recipient } from '../api/types';
import { batchKeys, type BatchPages, type RecipientPages } from '../features/batches/api';
import { importKeys } from '../features/imports/api';
import { finishedEvent, importFile, progressEvent } from '../features/imports/testImport';
import { LiveCacheUpdater } from './cache';

function counts(values: Partial<RecipientCounts>): RecipientCounts {
  return { staged: 0, queued: 0, processing: 0, sent: 0, failed: 0, unsubscribed: 0, cancelled: 0, ...values };
}

const BATCH: Batch = {
  id: 'b1',
  name: 'March newsletter',
  status: 'running',
  template_id: 't1',
  template_version_id: 'v1',
  template_version_number: 1,
  subject: 'News',
  sender_email: 'news@example.com',
  sender_name: null,
  transport: 'outbox',
  total: 2,
  counts: counts({ queued: 2 }),
  delivery: { delivered: 0, bounced: 0, opened: 0, clicked: 0, complained: 0 },
  created_at: '2026-03-01T10:00:00Z',
  launched_at: '2026-03-01T10:01:00Z',
  completed_at: null,
};

const RECIPIENT: Recipient = {
  id: 'r1',
  email: 'jane@example.com',
  status: 'queued',
  row_number: 2,
  fields: {},
  error: null,
  provider_message_id: null,
  attempts: 0,
  sent_at: null,
  updated_at: '2026-03-01T10:01:00Z',
};

function seededClient(): QueryClient {
  const client = new QueryClient();
  client.setQueryData(batchKeys.detail('b1'), BATCH);
  client.setQueryData<BatchPages>(batchKeys.lists, {
    pages: [{ items: [BATCH], next_cursor: null }],
    pageParams: [null],
  });
  for (const status of ['', 'queued'] as const) {
    client.setQueryData<RecipientPages>(batchKeys.recipientsByStatus('b1', status), {
      pages: [{ items: [RECIPIENT], next_cursor: null }],
      pageParams: [null],
    });
  }
  return client;
}

describe('LiveCacheUpdater', () => {
  it('writes progress into the batch snapshot and the list', () => {
    const client = seededClient();

    new LiveCacheUpdater(client).apply({
      type: 'batch.progress',
      batch_id: 'b1',
      status: 'running',
      counts: counts({ queued: 1, sent: 1 }),
      total: 2,
      rate: 1,
      eta_seconds: 1,
    });

    expect(client.getQueryData<Batch>(batchKeys.detail('b1'))?.counts.sent).toBe(1);
    expect(client.getQueryData<BatchPages>(batchKeys.lists)?.pages[0]?.items[0]?.counts.sent).toBe(1);
  });

  it('updates the recipient row under every status filter', () => {
    const client = seededClient();

    new LiveCacheUpdater(client).apply({
      type: 'recipient.updated',
      batch_id: 'b1',
      recipient_id: 'r1',
      email: 'jane@example.com',
      status: 'sent',
      error: null,
      at: '2026-03-01T10:02:00Z',
    });

    for (const status of ['', 'queued'] as const) {
      const data = client.getQueryData<RecipientPages>(batchKeys.recipientsByStatus('b1', status));
      expect(data?.pages[0]?.items[0]?.status).toBe('sent');
    }
  });

  it('leaves the recipients of another batch alone', () => {
    const client = seededClient();

    new LiveCacheUpdater(client).apply({
      type: 'recipient.updated',
      batch_id: 'b2',
      recipient_id: 'r1',
      email: 'jane@example.com',
      status: 'failed',
      error: 'Rejected.',
      at: '2026-03-01T10:02:00Z',
    });

    const data = client.getQueryData<RecipientPages>(batchKeys.recipientsByStatus('b1', ''));
    expect(data?.pages[0]?.items[0]?.status).toBe('queued');
  });

  it('marks every batch query stale on reconnect', () => {
    const client = seededClient();

    new LiveCacheUpdater(client).refetchSnapshots();

    expect(client.getQueryState(batchKeys.detail('b1'))?.isInvalidated).toBe(true);
    expect(client.getQueryState(batchKeys.recipientsByStatus('b1', ''))?.isInvalidated).toBe(true);
  });

  it('reloads the snapshot once the batch completes', () => {
    const client = seededClient();

    new LiveCacheUpdater(client).apply({
      type: 'batch.progress',
      batch_id: 'b1',
      status: 'completed',
      counts: counts({ sent: 2 }),
      total: 2,
      rate: null,
      eta_seconds: null,
    });

    expect(client.getQueryData<Batch>(batchKeys.detail('b1'))?.status).toBe('completed');
    expect(client.getQueryState(batchKeys.detail('b1'))?.isInvalidated).toBe(true);
  });
});

describe('LiveCacheUpdater with import events', () => {
  it('writes progress into the cached running import', () => {
    const client = new QueryClient();
    client.setQueryData(importKeys.detail('imp-1'), importFile({ status: 'validating' }));

    new LiveCacheUpdater(client).apply(progressEvent({ rows_read: 12, valid: 11, invalid: 1 }));

    const cached = client.getQueryData<ImportFile>(importKeys.detail('imp-1'));
    expect(cached?.progress).toMatchObject({ rows_read: 12, valid: 11, invalid: 1 });
  });

  it('writes the end of the job and reloads the import', () => {
    const client = new QueryClient();
    client.setQueryData(importKeys.detail('imp-1'), importFile({ status: 'staging' }));

    new LiveCacheUpdater(client).apply(finishedEvent({ status: 'staged', batch_id: 'bat-1' }));

    const cached = client.getQueryData<ImportFile>(importKeys.detail('imp-1'));
    expect(cached?.status).toBe('staged');
    expect(cached?.batch_id).toBe('bat-1');
    expect(client.getQueryState(importKeys.detail('imp-1'))?.isInvalidated).toBe(true);
  });

  it('marks import queries stale on reconnect', () => {
    const client = new QueryClient();
    client.setQueryData(importKeys.detail('imp-1'), importFile({ status: 'validating' }));

    new LiveCacheUpdater(client).refetchSnapshots();

    expect(client.getQueryState(importKeys.detail('imp-1'))?.isInvalidated).toBe(true);
  });
});
