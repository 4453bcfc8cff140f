// Pure state transitions for live updates: the connection state, the latest progress per
// batch, and how an event changes a cached REST snapshot. No React and no I/O here.

import type {
  Batch,
  BatchProgressEvent,
  BatchStatus,
  LiveEvent,
  Page,
  Recipient,
  RecipientUpdatedEvent,
} from '../api/types';
import { RECIPIENT_STATES } from '../api/types';
import { finishedCount } from '../lib/progress';
import { parseImportEvent, reduceImportEvent, type LiveImportState } from './imports';

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting';

export interface LiveBatchState {
  status: BatchStatus;
  counts: BatchProgressEvent['counts'];
  total: number;
  rate: number | null;
  etaSeconds: number | null;
}

export interface LiveState {
  connection: ConnectionStatus;
  /** Number of times the socket has opened; every open after the first is a reconnect. */
  opens: number;
  batches: Record<string, LiveBatchState>;
  imports: Record<string, LiveImportState>;
}

export type LiveAction =
  | { type: 'connection'; status: ConnectionStatus }
  | { type: 'event'; event: LiveEvent }
  /** Forgets an import's job state when the operator starts a new job for it. */
  | { type: 'import.reset'; importId: string };

export const initialLiveState: LiveState = { connection: 'idle', opens: 0, batches: {}, imports: {} };

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  if (action.type === 'connection') {
    if (action.status === state.connection) {
      return state;
    }
    const opens = action.status === 'open' ? state.opens + 1 : state.opens;
    return { ...state, connection: action.status, opens };
  }

  if (action.type === 'import.reset') {
    if (!(action.importId in state.imports)) {
      return state;
    }
    const { [action.importId]: _forgotten, ...imports } = state.imports;
    return { ...state, imports };
  }

  const { event } = action;
  if (event.type === 'import.progress' || event.type === 'import.finished') {
    const before = state.imports[event.import_id];
    const after = reduceImportEvent(before, event);
    return after === before ? state : { ...state, imports: { ...state.imports, [event.import_id]: after } };
  }
  if (event.type !== 'batch.progress') {
    return state;
  }
  const batch: LiveBatchState = {
    status: event.status,
    counts: event.counts,
    total: event.total,
    rate: event.rate,
    etaSeconds: event.eta_seconds,
  };
  return { ...state, batches: { ...state.batches, [event.batch_id]: batch } };
}

// Parsing

const BATCH_STATUSES: ReadonlySet<string> = new Set(['staged', 'running', 'paused', 'completed', 'cancelled']);
const RECIPIENT_STATUS_SET: ReadonlySet<string> = new Set(RECIPIENT_STATES);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function parseCounts(value: unknown): BatchProgressEvent['counts'] | null {
  if (!isRecord(value)) {
    return null;
  }
  const counts = {} as BatchProgressEvent['counts'];
  for (const state of RECIPIENT_STATES) {
    const count = value[state];
    counts[state] = typeof count === 'number' ? count : 0;
  }
  return counts;
}

/**
 * Parses one text frame: a single event object or, as the server sends after coalescing, an
 * array of them. Events of unknown type or shape are dropped.
 */
export function parseLiveFrame(text: string): LiveEvent[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  const items: unknown[] = Array.isArray(data) ? data : [data];
  return items.map(parseLiveEvent).filter((event): event is LiveEvent => event !== null);
}

/** Reads one decoded event. Returns null for an unknown type or shape. */
export function parseLiveEvent(data: unknown): LiveEvent | null {
  if (isRecord(data) && (data.type === 'import.progress' || data.type === 'import.finished')) {
    return parseImportEvent(data);
  }
  if (!isRecord(data) || typeof data.batch_id !== 'string') {
    return null;
  }

  if (data.type === 'batch.progress') {
    const counts = parseCounts(data.counts);
    if (counts === null || typeof data.status !== 'string' || !BATCH_STATUSES.has(data.status)) {
      return null;
    }
    return {
      type: 'batch.progress',
      batch_id: data.batch_id,
      status: data.status as BatchStatus,
      counts,
      total: typeof data.total === 'number' ? data.total : 0,
      rate: optionalNumber(data.rate),
      eta_seconds: optionalNumber(data.eta_seconds),
    };
  }

  if (data.type === 'recipient.updated') {
    if (
      typeof data.recipient_id !== 'string' ||
      typeof data.status !== 'string' ||
      !RECIPIENT_STATUS_SET.has(data.status)
    ) {
      return null;
    }
    return {
      type: 'recipient.updated',
      batch_id: data.batch_id,
      recipient_id: data.recipient_id,
      email: typeof data.email === 'string' ? data.email : '',
      status: data.status as RecipientUpdatedEvent['status'],
      error: typeof data.error === 'string' ? data.error : null,
      at: typeof data.at === 'string' ? data.at : new Date().toISOString(),
    };
  }

  return null;
}

// Applying events to REST snapshots

// Batch states in the order a batch passes through them: an event never moves a snapshot back.
const BATCH_STATUS_RANK: Record<BatchStatus, number> = {
  staged: 0,
  running: 1,
  paused: 1,
  completed: 2,
  cancelled: 2,
};

/**
 * Tells whether a progress event is at least as new as the snapshot. Events carry no
 * timestamp, and one published before a snapshot was read can arrive after it, so an event
 * that would move the batch back to an earlier state or fewer finished recipients is stale.
 */
export function isProgressCurrent(batch: Pick<Batch, 'status' | 'counts'>, event: BatchProgressEvent): boolean {
  const eventRank = BATCH_STATUS_RANK[event.status];
  const batchRank = BATCH_STATUS_RANK[batch.status];
  if (eventRank !== batchRank) {
    return eventRank > batchRank;
  }
  return finishedCount(event.counts) >= finishedCount(batch.counts);
}

export function applyBatchProgress(batch: Batch, event: BatchProgressEvent): Batch {
  if (batch.id !== event.batch_id || !isProgressCurrent(batch, event)) {
    return batch;
  }
  const throttled = event.throttled_until === undefined ? {} : { throttled_until: event.throttled_until };
  return { ...batch, status: event.status, counts: event.counts, total: event.total, ...throttled };
}

/** Applies a progress event to a page of batches; returns the same page when no row matches. */
export function applyBatchProgressToPage(page: Page<Batch>, event: BatchProgressEvent): Page<Batch> {
  if (!page.items.some((batch) => batch.id === event.batch_id)) {
    return page;
  }
  return { ...page, items: page.items.map((batch) => applyBatchProgress(batch, event)) };
}

function timeOf(iso: string): number {
  return Date.parse(iso);
}

export function applyRecipientUpdate(recipient: Recipient, event: RecipientUpdatedEvent): Recipient {
  if (recipient.id !== event.recipient_id) {
    return recipient;
  }
  // A snapshot read after the event already contains it, or a newer state.
  const eventTime = timeOf(event.at);
  const snapshotTime = timeOf(recipient.updated_at);
  if (!Number.isNaN(eventTime) && !Number.isNaN(snapshotTime) && eventTime < snapshotTime) {
    return recipient;
  }
  const sentAt = event.status === 'sent' && recipient.sent_at === null ? event.at : recipient.sent_at;
  return { ...recipient, status: event.status, error: event.error, updated_at: event.at, sent_at: sentAt };
}

/** Applies a recipient event to a page of recipients; returns the same page when no row matches. */
export function applyRecipientUpdateToPage(page: Page<Recipient>, event: RecipientUpdatedEvent): Page<Recipient> {
  if (!page.items.some((recipient) => recipient.id === event.recipient_id)) {
    return page;
  }
  return { ...page, items: page.items.map((recipient) => applyRecipientUpdate(recipient, event)) };
}
