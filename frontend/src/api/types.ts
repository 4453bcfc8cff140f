// Types of the REST and WebSocket API under /api/v1, as docs/api.md describes them.
// Times are ISO 8601 strings in UTC and ids are UUID strings.

export type Uuid = string;
export type IsoDateTime = string;

/** A keyset-paged list: pass `next_cursor` back as `cursor`; it is null on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** A list paged by number (import row errors). */
export interface NumberedPage<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

export type ErrorCode =
  | 'validation_error'
  | 'not_authenticated'
  | 'permission_denied'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_file'
  | 'rate_limited';

/** The JSON body of every error response. */
export interface ErrorBody {
  code: string;
  message: string;
  field: string | null;
  details: Record<string, unknown> | null;
}

// Authentication

export interface User {
  id: Uuid;
  email: string;
  name: string | null;
  created_at: IsoDateTime;
}

export interface LoginRequest {
  email: string;
  password: string;
}

export interface SignupRequest {
  email: string;
  password: string;
  name?: string;
}

// Templates

export interface TemplateField {
  name: string;
  required: boolean;
  default: string | null;
  sample: string | null;
}

export interface VersionSummary {
  id: Uuid;
  number: number;
  published_at: IsoDateTime;
}

export interface TemplateSummary {
  id: Uuid;
  name: string;
  created_at: IsoDateTime;
  updated_at: IsoDateTime;
  latest_version: VersionSummary | null;
}

export interface Draft {
  subject: string;
  html: string;
  text: string;
  fields: TemplateField[];
  updated_at: IsoDateTime;
}

export interface Template {
  id: Uuid;
  name: string;
  created_at: IsoDateTime;
  updated_at: IsoDateTime;
  draft: Draft | null;
  latest_version: VersionSummary | null;
}

export interface TemplateVersion {
  id: Uuid;
  template_id: Uuid;
  number: number;
  subject: string;
  html: string;
  text: string;
  fields: TemplateField[];
  published_at: IsoDateTime;
}

export interface DraftUpdate {
  subject: string;
  html: string;
  text: string;
  fields?: TemplateField[];
}

export interface PreviewRequest {
  version_id?: Uuid;
  values?: Record<string, string>;
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}

// Imports

export type ImportStatus =
  'uploaded' | 'mapped' | 'validating' | 'validated' | 'staging' | 'staged' | 'failed' | 'cancelled';

/** The background job of an import: validation, then staging. */
export type ImportPhase = 'validating' | 'staging';

/** Counts of a running (or the last) import job. `bytes_read` stays 0 for spreadsheets. */
export interface ImportProgress {
  phase: ImportPhase;
  rows_read: number;
  valid: number;
  invalid: number;
  bytes_read: number;
  size_bytes: number;
  /** Recipients written during staging. */
  staged: number;
}

export interface PresetRef {
  id: Uuid;
  name: string;
}

/** A saved mapping, suggested again for files with the same column headers. */
export interface MappingPreset {
  id: Uuid;
  name: string;
  columns: string[];
  /** Merge field to column header, null for a field left unmapped. */
  mapping: Record<string, string | null>;
  keep_unmapped: boolean;
  created_at: IsoDateTime;
}

export type RowErrorReason = 'invalid_email' | 'missing_required' | 'duplicate';

export interface RowError {
  row_number: number;
  column: string | null;
  value: string | null;
  reason: string;
  message: string;
}

export interface Validation {
  total_rows: number;
  valid_rows: number;
  invalid_rows: number;
  duplicate_rows: number;
  suppressed_rows: number;
  reasons: Record<RowErrorReason, number>;
  errors: RowError[];
}

/** Column header to merge-field name, `email` for the address column, null to leave it out. */
export type ColumnMapping = Record<string, string | null>;

/**
 * The contract does not fix the shape of a column entry: a plain header string, or an
 * object with the header in `name`. `columnNames()` in features/imports reads both.
 */
export type ImportColumn = string | { name: string; samples?: string[] };

export interface ImportFile {
  id: Uuid;
  filename: string;
  status: ImportStatus;
  format: string;
  encoding: string | null;
  delimiter: string | null;
  sheets: string[] | null;
  sheet: string | null;
  header_row: number;
  columns: ImportColumn[];
  suggested_mapping: ColumnMapping;
  template_version_id: Uuid | null;
  mapping: ColumnMapping | null;
  validation: Validation | null;
  batch_id: Uuid | null;
  created_at: IsoDateTime;
  progress: ImportProgress | null;
  /** The reason the last job failed and the fix. Empty unless status is `failed`. */
  error: string;
  /** Whether columns mapped to no field are stored as contact attributes when staging. */
  keep_unmapped: boolean;
  /** The saved preset the suggested mapping came from. */
  preset: PresetRef | null;
  /** The earlier import of the same columns whose mapping was suggested. */
  reused_from: Uuid | null;
  // NOTE: docs/api.md lists no sample rows on an Import. The upload step shows these when
  // the backend sends them (cells in column order) and shows the headers alone otherwise.
  sample_rows?: string[][];
}

export interface MappingUpdate {
  template_version_id: Uuid;
  mapping: ColumnMapping;
  sheet?: string;
  header_row?: number;
  encoding?: string;
  keep_unmapped?: boolean;
}

// Contacts

export type ContactStatus = 'subscribed' | 'unsubscribed' | 'bounced' | 'complained';

export interface Contact {
  id: Uuid;
  email: string;
  name: string | null;
  attributes: Record<string, string>;
  status: ContactStatus;
  unsubscribed_at: IsoDateTime | null;
  last_sent_at: IsoDateTime | null;
  last_status: string | null;
  send_count: number;
  created_at: IsoDateTime;
  updated_at: IsoDateTime;
}

export interface SuppressionImportResult {
  total_rows: number;
  suppressed: number;
  already_suppressed: number;
  invalid_rows: number;
  errors: RowError[];
}

// Batches

export type BatchStatus = 'staged' | 'running' | 'paused' | 'completed' | 'cancelled';

export const RECIPIENT_STATES = [
  'staged',
  'queued',
  'processing',
  'sent',
  'failed',
  'unsubscribed',
  'cancelled',
] as const;

export type RecipientStatus = (typeof RECIPIENT_STATES)[number];

export type RecipientCounts = Record<RecipientStatus, number>;

export type Transport = 'brevo' | 'outbox';

/** Recipients for which Brevo's webhook reported each outcome. All stay 0 without the webhook and for the outbox. */
export interface DeliveryCounts {
  delivered: number;
  /** Soft and hard bounces, blocked and invalid addresses. */
  bounced: number;
  opened: number;
  clicked: number;
  /** Spam complaints. */
  complained: number;
}

export interface Batch {
  id: Uuid;
  name: string;
  status: BatchStatus;
  template_id: Uuid;
  template_version_id: Uuid;
  template_version_number: number;
  subject: string;
  sender_email: string;
  sender_name: string | null;
  transport: Transport;
  total: number;
  counts: RecipientCounts;
  delivery: DeliveryCounts;
  /** The reason a paused batch stopped, such as a rejected Brevo key, or empty. */
  pause_reason?: string;
  /** ISO time at which a batch held back by a send limit resumes by itself. */
  throttled_until?: string | null;
  created_at: IsoDateTime;
  launched_at: IsoDateTime | null;
  completed_at: IsoDateTime | null;
}

export interface Recipient {
  id: Uuid;
  email: string;
  status: RecipientStatus;
  row_number: number;
  fields: Record<string, string>;
  error: string | null;
  provider_message_id: string | null;
  attempts: number;
  sent_at: IsoDateTime | null;
  updated_at: IsoDateTime;
}

// Settings

export interface Settings {
  sender_email: string | null;
  sender_name: string | null;
  brevo_key: { configured: boolean; last4: string | null };
  use_env_key: boolean;
  use_env_sender: boolean;
  env_key_available: boolean;
  env_sender: { email: string; name: string | null } | null;
  transport: Transport;
  /** Messages per hour, 0 for no limit. */
  hourly_limit: number;
  /** Messages per day, 0 for no limit. */
  daily_limit: number;
  /** Requests per second to Brevo. */
  provider_rate_per_second: number;
  /** Requests to Brevo in flight at once. */
  send_concurrency: number;
  /** The last check of the key in effect, or null until that key has been checked. */
  brevo_account: BrevoAccount | null;
  /** The address to paste into Brevo's transactional webhook settings. Its token is the only credential. */
  webhook_url: string;
}

/** One entry of a Brevo account's plan, such as `{type: 'free', credits: 300, credits_type: 'sendLimit'}`. */
export interface PlanCredits {
  type: string;
  credits: number | null;
  credits_type: string | null;
}

/** The result of `POST /settings/check-key`: the Brevo account of the key, or the error. */
export interface BrevoAccount {
  email: string | null;
  credits: PlanCredits[];
  checked_at: IsoDateTime;
  /** The reason the check failed, such as a rejected key, or null after a successful check. */
  error: string | null;
}

export interface SettingsUpdate {
  sender_email?: string;
  sender_name?: string;
  /** An empty string removes the stored key. */
  brevo_api_key?: string;
  use_env_key?: boolean;
  use_env_sender?: boolean;
  hourly_limit?: number;
  daily_limit?: number;
  provider_rate_per_second?: number;
  send_concurrency?: number;
}

// Activity

export type ActivityKind =
  | 'signed_in'
  | 'template_published'
  | 'import_validated'
  | 'batch_staged'
  | 'batch_launched'
  | 'batch_completed'
  | 'contact_unsubscribed'
  | 'contact_resubscribed'
  | 'suppressions_imported';

export interface ActivityEntry {
  id: Uuid;
  kind: ActivityKind | string;
  message: string;
  subject_type: string | null;
  subject_id: Uuid | null;
  data: Record<string, unknown> | null;
  created_at: IsoDateTime;
}

// Public unsubscribe

export interface UnsubscribeInfo {
  /** The address with most characters masked. */
  email: string;
  status: ContactStatus | string;
}

// Live events (WebSocket /api/v1/live)

export interface RecipientUpdatedEvent {
  type: 'recipient.updated';
  batch_id: Uuid;
  recipient_id: Uuid;
  email: string;
  status: RecipientStatus;
  error: string | null;
  at: IsoDateTime;
}

export interface BatchProgressEvent {
  type: 'batch.progress';
  batch_id: Uuid;
  status: BatchStatus;
  counts: RecipientCounts;
  total: number;
  /** Messages per second, when the server has measured it. */
  rate: number | null;
  eta_seconds: number | null;
  /** ISO time at which a batch held back by an hourly or daily send limit resumes. */
  throttled_until?: string | null;
}

export interface ImportProgressEvent {
  type: 'import.progress';
  import_id: Uuid;
  status: ImportStatus;
  phase: ImportPhase;
  rows_read: number;
  valid: number;
  invalid: number;
  bytes_read: number;
  size_bytes: number;
  staged: number;
}

/** The last event of an import job. */
export interface ImportFinishedEvent {
  type: 'import.finished';
  import_id: Uuid;
  status: 'validated' | 'staged' | 'failed' | 'cancelled';
  error: string;
  batch_id: Uuid | null;
}

export type LiveEvent = RecipientUpdatedEvent | BatchProgressEvent | ImportProgressEvent | ImportFinishedEvent;
