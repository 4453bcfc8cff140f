import { describe, expect, it } from 'vitest';

import type { LiveImportState } from '../../live/imports';
import {
  applyImportFinished,
  applyImportProgress,
  currentProgress,
  finishedSinceSnapshot,
  jobState,
  lastPhase,
  pollInterval,
  readFraction,
} from './progress';
import { finishedEvent, importFile, progress, progressEvent } from './testImport';

function live(changes: Partial<LiveImportState> = {}): LiveImportState {
  return { status: 'validating', progress: progress(), finished: false, error: '', batchId: null, ...changes };
}

describe('applyImportProgress', () => {
  it('writes the counts of a running import', () => {
    const running = importFile({ status: 'validating' });

    const next = applyImportProgress(running, progressEvent({ rows_read: 40, valid: 30, invalid: 10 }));

    expect(next.progress).toEqual(progress({ rows_read: 40, valid: 30, invalid: 10, bytes_read: 250 }));
    expect(next.status).toBe('validating');
  });

  it('ignores an event with fewer rows than the snapshot', () => {
    const running = importFile({ status: 'validating', progress: progress({ rows_read: 50 }) });

    expect(applyImportProgress(running, progressEvent({ rows_read: 40 }))).toBe(running);
  });

  it('ignores events once the import is no longer running', () => {
    const validated = importFile({ status: 'validated' });

    expect(applyImportProgress(validated, progressEvent())).toBe(validated);
  });

  it('ignores events of another import', () => {
    const running = importFile({ status: 'validating' });

    expect(applyImportProgress(running, progressEvent({ import_id: 'imp-2' }))).toBe(running);
  });

  it('takes a new phase even with fewer rows', () => {
    const staging = importFile({ status: 'staging', progress: progress({ rows_read: 90 }) });

    const next = applyImportProgress(staging, progressEvent({ status: 'staging', phase: 'staging', rows_read: 5 }));

    expect(next.progress?.phase).toBe('staging');
    expect(next.progress?.rows_read).toBe(5);
  });
});

describe('applyImportFinished', () => {
  it('moves a running import to the final status', () => {
    const running = importFile({ status: 'validating' });

    const next = applyImportFinished(running, finishedEvent({ status: 'failed', error: 'Row 3 is unreadable.' }));

    expect(next.status).toBe('failed');
    expect(next.error).toBe('Row 3 is unreadable.');
  });

  it('sets the batch of a staged import', () => {
    const staging = importFile({ status: 'staging' });

    const next = applyImportFinished(staging, finishedEvent({ status: 'staged', batch_id: 'bat-1' }));

    expect(next.status).toBe('staged');
    expect(next.batch_id).toBe('bat-1');
  });

  it('leaves an import that already shows its result', () => {
    const validated = importFile({ status: 'validated' });

    expect(applyImportFinished(validated, finishedEvent({ status: 'cancelled' }))).toBe(validated);
  });
});

describe('currentProgress', () => {
  it('prefers live counts ahead of the snapshot', () => {
    const running = importFile({ status: 'validating', progress: progress({ rows_read: 10 }) });

    expect(currentProgress(running, live({ progress: progress({ rows_read: 20 }) }))?.rows_read).toBe(20);
  });

  it('keeps a snapshot ahead of the live counts', () => {
    const running = importFile({ status: 'validating', progress: progress({ rows_read: 30 }) });

    expect(currentProgress(running, live({ progress: progress({ rows_read: 20 }) }))?.rows_read).toBe(30);
  });

  it('ignores live counts of another phase', () => {
    const staging = importFile({ status: 'staging', progress: null });

    expect(currentProgress(staging, live({ progress: progress({ rows_read: 20 }) }))).toBeNull();
  });

  it('uses the snapshot when the import is not running', () => {
    const snapshot = progress({ rows_read: 5 });
    const failed = importFile({ status: 'failed', progress: snapshot });

    expect(currentProgress(failed, live({ progress: progress({ rows_read: 20 }) }))).toBe(snapshot);
  });
});

describe('finishedSinceSnapshot', () => {
  it('is true when only the socket saw the end', () => {
    expect(finishedSinceSnapshot(importFile({ status: 'validating' }), live({ finished: true }))).toBe(true);
  });

  it('is false while the job runs', () => {
    expect(finishedSinceSnapshot(importFile({ status: 'validating' }), live())).toBe(false);
    expect(finishedSinceSnapshot(importFile({ status: 'validating' }), null)).toBe(false);
  });

  it('is false once the snapshot shows the result', () => {
    expect(finishedSinceSnapshot(importFile({ status: 'validated' }), live({ finished: true }))).toBe(false);
  });
});

describe('readFraction', () => {
  it('divides bytes read by the file size for CSV', () => {
    expect(readFraction('csv', progress({ bytes_read: 250, size_bytes: 1000 }))).toBe(0.25);
  });

  it('starts CSV at zero before the first count', () => {
    expect(readFraction('csv', null)).toBe(0);
  });

  it('caps at one', () => {
    expect(readFraction('csv', progress({ bytes_read: 1200, size_bytes: 1000 }))).toBe(1);
  });

  it('is unknown for spreadsheets without byte counts', () => {
    expect(readFraction('xlsx', progress({ rows_read: 500, bytes_read: 0 }))).toBeNull();
    expect(readFraction('ods', null)).toBeNull();
  });
});

describe('job state', () => {
  it('names running, stopped and idle imports', () => {
    expect(jobState('validating')).toBe('running');
    expect(jobState('staging')).toBe('running');
    expect(jobState('failed')).toBe('failed');
    expect(jobState('cancelled')).toBe('cancelled');
    expect(jobState('validated')).toBe('idle');
    expect(jobState('mapped')).toBe('idle');
  });

  it('finds the phase of a stopped job from its progress', () => {
    expect(lastPhase(importFile({ status: 'failed', progress: progress({ phase: 'staging' }) }))).toBe('staging');
    expect(lastPhase(importFile({ status: 'cancelled', progress: progress({ phase: 'validating' }) }))).toBe(
      'validating',
    );
  });

  it('falls back to the validation result without progress', () => {
    expect(lastPhase(importFile({ status: 'failed' }))).toBe('validating');
  });
});

describe('pollInterval', () => {
  it('polls every 2 s while a job runs and the socket is down', () => {
    expect(pollInterval('validating', 'reconnecting')).toBe(2000);
    expect(pollInterval('staging', 'idle')).toBe(2000);
  });

  it('does not poll while the socket is open', () => {
    expect(pollInterval('validating', 'open')).toBe(false);
  });

  it('does not poll an import without a running job', () => {
    expect(pollInterval('validated', 'reconnecting')).toBe(false);
    expect(pollInterval(undefined, 'reconnecting')).toBe(false);
  });
});
