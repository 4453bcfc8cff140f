import { describe, expect, it } from 'vitest';

import { finishedEvent, progressEvent } from '../features/imports/testImport';
import { parseImportEvent, reduceImportEvent } from './imports';
import { initialLiveState, liveReducer, parseLiveFrame } from './reducer';

describe('parseImportEvent', () => {
  it('reads a progress event', () => {
    const event = parseImportEvent({ ...progressEvent(), extra: true });

    expect(event).toEqual(progressEvent());
  });

  it('reads a finished event with its batch', () => {
    const event = parseImportEvent({
      type: 'import.finished',
      import_id: 'imp-1',
      status: 'staged',
      error: '',
      batch_id: 'bat-1',
    });

    expect(event).toEqual(finishedEvent({ status: 'staged', batch_id: 'bat-1' }));
  });

  it('drops an unknown phase or status', () => {
    expect(parseImportEvent({ ...progressEvent(), phase: 'sending' })).toBeNull();
    expect(parseImportEvent({ ...finishedEvent(), status: 'validating' })).toBeNull();
    expect(parseImportEvent({ ...progressEvent(), import_id: 7 })).toBeNull();
  });

  it('turns missing or negative counts into zero', () => {
    const event = parseImportEvent({ ...progressEvent(), rows_read: -1, bytes_read: 'x', staged: undefined });

    expect(event).toMatchObject({ rows_read: 0, bytes_read: 0, staged: 0 });
  });

  it('is reached through a live frame', () => {
    const frame = JSON.stringify([progressEvent(), finishedEvent()]);

    expect(parseLiveFrame(frame).map((event) => event.type)).toEqual(['import.progress', 'import.finished']);
  });
});

describe('reduceImportEvent', () => {
  it('keeps the latest counts', () => {
    const first = reduceImportEvent(undefined, progressEvent({ rows_read: 10 }));
    const second = reduceImportEvent(first, progressEvent({ rows_read: 30, valid: 25, invalid: 5 }));

    expect(second.progress).toMatchObject({ rows_read: 30, valid: 25, invalid: 5 });
    expect(second.finished).toBe(false);
  });

  it('ignores counts older than the ones it has', () => {
    const ahead = reduceImportEvent(undefined, progressEvent({ rows_read: 30 }));

    expect(reduceImportEvent(ahead, progressEvent({ rows_read: 10 }))).toBe(ahead);
  });

  it('records the end with the last counts and the error', () => {
    const running = reduceImportEvent(undefined, progressEvent({ rows_read: 30 }));
    const failed = reduceImportEvent(running, finishedEvent({ status: 'failed', error: 'The file was removed.' }));

    expect(failed).toMatchObject({ status: 'failed', finished: true, error: 'The file was removed.' });
    expect(failed.progress.rows_read).toBe(30);
  });

  it('ignores a progress event of the same phase after the end', () => {
    const done = reduceImportEvent(undefined, finishedEvent());

    expect(reduceImportEvent(done, progressEvent())).toBe(done);
  });

  it('starts over for the staging phase after validation ended', () => {
    const validated = reduceImportEvent(reduceImportEvent(undefined, progressEvent()), finishedEvent());

    const staging = reduceImportEvent(validated, progressEvent({ status: 'staging', phase: 'staging', rows_read: 3 }));

    expect(staging).toMatchObject({ status: 'staging', finished: false });
    expect(staging.progress.rows_read).toBe(3);
  });
});

describe('liveReducer with import events', () => {
  it('tracks each import by id', () => {
    let state = liveReducer(initialLiveState, { type: 'event', event: progressEvent() });
    state = liveReducer(state, { type: 'event', event: progressEvent({ import_id: 'imp-2', rows_read: 4 }) });

    expect(state.imports['imp-1']?.progress.rows_read).toBe(10);
    expect(state.imports['imp-2']?.progress.rows_read).toBe(4);
  });

  it('clears an import on reset', () => {
    let state = liveReducer(initialLiveState, { type: 'event', event: finishedEvent({ status: 'failed' }) });
    state = liveReducer(state, { type: 'import.reset', importId: 'imp-1' });
    state = liveReducer(state, { type: 'event', event: progressEvent({ rows_read: 2 }) });

    expect(state.imports['imp-1']).toMatchObject({ status: 'validating', finished: false });
  });

  it('returns the same state for a reset of an unknown import', () => {
    expect(liveReducer(initialLiveState, { type: 'import.reset', importId: 'imp-9' })).toBe(initialLiveState);
  });
});
