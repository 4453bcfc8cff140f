import { useState } from 'react';

import { RECIPIENT_STATES, type Recipient, type RecipientStatus } from '../../../api/types';
import {
  Button,
  capitalize,
  EmptyState,
  ErrorNotice,
  RecipientStatusBadge,
  SelectField,
  Spinner,
  Table,
  type Column,
} from '../../../components/ui';
import { formatDateTime } from '../../../lib/format';
import { useRecipients } from '../api';

const STATUS_OPTIONS = [
  { value: '', label: 'All states' },
  ...RECIPIENT_STATES.map((state) => ({ value: state, label: capitalize(state) })),
];

const COLUMNS: Column<Recipient>[] = [
  { key: 'row', header: 'Row', numeric: true, render: (recipient) => recipient.row_number },
  { key: 'email', header: 'Email', render: (recipient) => <span className="mono">{recipient.email}</span> },
  { key: 'status', header: 'State', render: (recipient) => <RecipientStatusBadge status={recipient.status} /> },
  { key: 'attempts', header: 'Attempts', numeric: true, render: (recipient) => recipient.attempts },
  {
    key: 'sent',
    header: 'Sent',
    render: (recipient) => formatDateTime(recipient.sent_at),
  },
  {
    key: 'error',
    header: 'Error',
    render: (recipient) =>
      recipient.error ? (
        <span className={recipient.status === 'failed' ? 'text-error' : 'muted'}>{recipient.error}</span>
      ) : (
        '—'
      ),
  },
];

/** Renders the recipients of a batch, paged by cursor. Rows change state live from the cache. */
export function RecipientsTable({ batchId }: { batchId: string }) {
  const [status, setStatus] = useState<RecipientStatus | ''>('');
  const recipients = useRecipients(batchId, status);
  const rows = recipients.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="stack">
      <div className="toolbar">
        <SelectField
          label="Filter by state"
          value={status}
          options={STATUS_OPTIONS}
          onChange={(event) => setStatus(event.target.value as RecipientStatus | '')}
          fieldClassName="field--inline"
        />
      </div>
      {recipients.isPending && <Spinner label="Loading recipients…" />}
      <ErrorNotice title="Cannot load recipients." error={recipients.error} />
      {recipients.isSuccess && (
        <Table
          caption="Recipients"
          columns={COLUMNS}
          rows={rows}
          rowKey={(recipient) => recipient.id}
          data-testid="recipients-table"
          empty={<EmptyState title={status ? `No recipients in state ${status}.` : 'This batch has no recipients.'} />}
        />
      )}
      {recipients.hasNextPage && (
        <div className="load-more">
          <Button busy={recipients.isFetchingNextPage} onClick={() => void recipients.fetchNextPage()}>
            Load more recipients
          </Button>
        </div>
      )}
    </div>
  );
}
