// Pure handling of the import job events: parsing, and the latest state per import.

import type { ImportFinishedEvent, ImportPhase, ImportProgress, ImportProgressEvent, ImportStatus } from '../api/types';

/** The latest live state of one import job. */
export interface LiveImportState {
  status: ImportStatus;
  progress: ImportProgress;
  /** Set by `import.finished`: the error text of a failed job and the staged batch. */
  finished: boolean;
  error: string;
  batchId: string | null;
}

const IMPORT_STATUSES: ReadonlySet<string> = new Set([
  'uploaded',
  'mapped',
  'validating',
  'validated',
  'staging',
  'staged',
  'failed',
  'cancelled',
]);
const FINISHED_STATUSES: ReadonlySet<string> = new Set(['validated', 'staged', 'failed', 'cancelled']);
const PHASES: ReadonlySet<string> = new Set(['validating', 'staging']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Reads an `import.progress` or `import.finished` event. Returns null for anything else. */
export function parseImportEvent(data: unknown): ImportProgressEvent | ImportFinishedEvent | null {
  if (!isRecord(data) || typeof data.import_id !== 'string' || typeof data.status !== 'string') {
    return null;
  }
  if (data.type === 'import.progress') {
    if (!IMPORT_STATUSES.has(data.status) || typeof data.phase !== 'string' || !PHASES.has(data.phase)) {
      return null;
    }
    return {
      type: 'import.progress',
      import_id: data.import_id,
      status: data.status as ImportStatus,
      phase: data.phase as ImportPhase,
      rows_read: count(data.rows_read),
      valid: count(data.valid),
      invalid: count(data.invalid),
      bytes_read: count(data.bytes_read),
      size_bytes: count(data.size_bytes),
      staged: count(data.staged),
    };
  }
  if (data.type === 'import.finished') {
    if (!FINISHED_STATUSES.has(data.status)) {
      return null;
    }
    return {
      type: 'import.finished',
      import_id: data.import_id,
      status: data.status as ImportFinishedEvent['status'],
      error: typeof data.error === 'string' ? data.error : '',
      batch_id: typeof data.batch_id === 'string' ? data.batch_id : null,
    };
  }
  return null;
}

export function progressOfEvent(event: ImportProgressEvent): ImportProgress {
  return {
    phase: event.phase,
    rows_read: event.rows_read,
    valid: event.valid,
    invalid: event.invalid,
    bytes_read: event.bytes_read,
    size_bytes: event.size_bytes,
    staged: event.staged,
  };
}

const EMPTY_PROGRESS: ImportProgress = {
  phase: 'validating',
  rows_read: 0,
  valid: 0,
  invalid: 0,
  bytes_read: 0,
  size_bytes: 0,
  staged: 0,
};

/**
 * Returns the state of one import after an event. A progress event that arrives after the
 * job's `import.finished`, or that counts fewer rows in the same phase, is stale and ignored.
 */
export function reduceImportEvent(
  state: LiveImportState | undefined,
  event: ImportProgressEvent | ImportFinishedEvent,
): LiveImportState {
  if (event.type === 'import.finished') {
    return {
      status: event.status,
      progress: state?.progress ?? EMPTY_PROGRESS,
      finished: true,
      error: event.error,
      batchId: event.batch_id,
    };
  }
  const progress = progressOfEvent(event);
  if (state !== undefined) {
    const samePhase = state.progress.phase === progress.phase;
    if (state.finished && samePhase) {
      return state;
    }
    if (!state.finished && samePhase && progress.rows_read < state.progress.rows_read) {
      return state;
    }
  }
  return { status: event.status, progress, finished: false, error: '', batchId: null };
}
