import type { ImportFile, ImportFinishedEvent, ImportProgress, ImportProgressEvent } from '../../api/types';

/** Builds an import as GET /imports/{id} returns it, for tests. */
export function importFile(changes: Partial<ImportFile> = {}): ImportFile {
  return {
    id: 'imp-1',
    filename: 'contacts.csv',
    status: 'mapped',
    format: 'csv',
    encoding: 'utf-8',
    delimiter: ',',
    sheets: null,
    sheet: null,
    header_row: 1,
    columns: ['email'],
    suggested_mapping: { email: 'email' },
    template_version_id: 'ver-1',
    mapping: { email: 'email' },
    validation: null,
    batch_id: null,
    created_at: '2026-01-01T00:00:00Z',
    progress: null,
    error: '',
    keep_unmapped: false,
    preset: null,
    reused_from: null,
    ...changes,
  };
}

export function progress(changes: Partial<ImportProgress> = {}): ImportProgress {
  return {
    phase: 'validating',
    rows_read: 0,
    valid: 0,
    invalid: 0,
    bytes_read: 0,
    size_bytes: 1000,
    staged: 0,
    ...changes,
  };
}

export function progressEvent(changes: Partial<ImportProgressEvent> = {}): ImportProgressEvent {
  return {
    type: 'import.progress',
    import_id: 'imp-1',
    status: 'validating',
    phase: 'validating',
    rows_read: 10,
    valid: 8,
    invalid: 2,
    bytes_read: 250,
    size_bytes: 1000,
    staged: 0,
    ...changes,
  };
}

export function finishedEvent(changes: Partial<ImportFinishedEvent> = {}): ImportFinishedEvent {
  return { type: 'import.finished', import_id: 'imp-1', status: 'validated', error: '', batch_id: null, ...changes };
}
