// Pure state of an import's background job (validation or staging): how events change the
// cached import, what the progress card shows, and when to poll. No React and no I/O here.

import type {
  ImportFile,
  ImportFinishedEvent,
  ImportPhase,
  ImportProgress,
  ImportProgressEvent,
  ImportStatus,
} from '../../api/types';
import type { ConnectionStatus } from '../../live/reducer';
import type { LiveImportState } from '../../live/imports';
import { progressOfEvent } from '../../live/imports';

/** How often the import is fetched while a job runs and the live socket is not open. */
export const POLL_INTERVAL_MS = 2_000;

export type JobState = 'idle' | 'running' | 'failed' | 'cancelled';

const RUNNING: ReadonlySet<ImportStatus> = new Set(['validating', 'staging']);

export function isRunning(status: ImportStatus): boolean {
  return RUNNING.has(status);
}

export function jobState(status: ImportStatus): JobState {
  if (isRunning(status)) {
    return 'running';
  }
  if (status === 'failed' || status === 'cancelled') {
    return status;
  }
  return 'idle';
}

/**
 * Returns which job an import ran last: the phase of its progress, or, without progress,
 * staging when a validation result exists.
 */
export function lastPhase(imported: Pick<ImportFile, 'status' | 'progress' | 'validation'>): ImportPhase {
  if (imported.status === 'validating' || imported.status === 'staging') {
    return imported.status;
  }
  if (imported.progress !== null) {
    return imported.progress.phase;
  }
  return imported.validation !== null ? 'staging' : 'validating';
}

/**
 * Applies an `import.progress` event to the cached import. Only a running import takes it,
 * and never with fewer rows than it has, since an event can arrive after a newer snapshot.
 */
export function applyImportProgress(imported: ImportFile, event: ImportProgressEvent): ImportFile {
  if (imported.id !== event.import_id || !isRunning(imported.status)) {
    return imported;
  }
  const known = imported.progress;
  if (known !== null && known.phase === event.phase && event.rows_read < known.rows_read) {
    return imported;
  }
  return { ...imported, status: event.status, progress: progressOfEvent(event) };
}

/** Applies `import.finished` to the cached import while the cache still shows the job running. */
export function applyImportFinished(imported: ImportFile, event: ImportFinishedEvent): ImportFile {
  if (imported.id !== event.import_id || !isRunning(imported.status)) {
    return imported;
  }
  return { ...imported, status: event.status, error: event.error, batch_id: event.batch_id ?? imported.batch_id };
}

/**
 * Picks the newer progress of the snapshot and the live state: a poll can return a snapshot
 * older than the last event, and the live state has no effect once the snapshot moved on.
 */
export function currentProgress(
  imported: Pick<ImportFile, 'status' | 'progress'>,
  live: LiveImportState | null,
): ImportProgress | null {
  const snapshot = imported.progress;
  if (live === null || !isRunning(imported.status) || live.progress.phase !== imported.status) {
    return snapshot;
  }
  if (snapshot === null || snapshot.phase !== live.progress.phase) {
    return live.progress;
  }
  return live.progress.rows_read > snapshot.rows_read ? live.progress : snapshot;
}

/**
 * Tells whether the live socket saw the job end while the snapshot still shows it running, as
 * when a small file finishes before the start request has returned.
 */
export function finishedSinceSnapshot(imported: Pick<ImportFile, 'status'>, live: LiveImportState | null): boolean {
  return live !== null && live.finished && isRunning(imported.status);
}

/**
 * Returns the share of the file read, from 0 to 1, or null when the bar cannot know it.
 * Spreadsheets are loaded whole per sheet, so they report rows but no bytes.
 */
export function readFraction(format: string, progress: ImportProgress | null): number | null {
  const streamed = format === 'csv';
  if (progress === null) {
    return streamed ? 0 : null;
  }
  if (progress.size_bytes > 0 && progress.bytes_read > 0) {
    return Math.min(1, progress.bytes_read / progress.size_bytes);
  }
  return streamed ? 0 : null;
}

/** Returns the poll interval for react-query: a number while a job runs without the socket. */
export function pollInterval(status: ImportStatus | undefined, connection: ConnectionStatus): number | false {
  if (status === undefined || !isRunning(status)) {
    return false;
  }
  return connection === 'open' ? false : POLL_INTERVAL_MS;
}
