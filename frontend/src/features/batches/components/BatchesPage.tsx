import { Link } from 'react-router';

import type { Batch } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import {
  BatchStatusBadge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  Spinner,
  Table,
  type Column,
} from '../../../components/ui';
import { formatDateTime, formatNumber } from '../../../lib/format';
import { useBatchList } from '../api';
import { BatchProgressBar } from './BatchProgressBar';

const COLUMNS: Column<Batch>[] = [
  { key: 'name', header: 'Name', render: (batch) => <Link to={`/batches/${batch.id}`}>{batch.name}</Link> },
  { key: 'status', header: 'Status', render: (batch) => <BatchStatusBadge status={batch.status} /> },
  { key: 'progress', header: 'Progress', render: (batch) => <BatchProgressBar batch={batch} size="sm" /> },
  { key: 'sent', header: 'Sent', numeric: true, render: (batch) => formatNumber(batch.counts.sent) },
  { key: 'total', header: 'Recipients', numeric: true, render: (batch) => formatNumber(batch.total) },
  {
    key: 'transport',
    header: 'Transport',
    render: (batch) => (batch.transport === 'outbox' ? 'Local outbox' : 'Brevo'),
  },
  { key: 'created', header: 'Staged', render: (batch) => formatDateTime(batch.created_at) },
];

export function BatchesPage() {
  const batches = useBatchList();
  const rows = batches.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <PageHeader title="Batches" description="Staged and sent batches, newest first.">
        <Link className="button button--primary" to="/imports/new">
          New import
        </Link>
      </PageHeader>
      <Card>
        {batches.isPending && <Spinner label="Loading batches…" />}
        <ErrorNotice title="Cannot load batches." error={batches.error} />
        {batches.isSuccess && (
          <Table
            caption="Batches"
            columns={COLUMNS}
            rows={rows}
            rowKey={(batch) => batch.id}
            empty={
              <EmptyState
                title="No batches yet."
                action={<Link to="/imports/new">Import a contact file to stage one</Link>}
              />
            }
          />
        )}
        {batches.hasNextPage && (
          <div className="load-more">
            <Button busy={batches.isFetchingNextPage} onClick={() => void batches.fetchNextPage()}>
              Load more
            </Button>
          </div>
        )}
      </Card>
    </>
  );
}
