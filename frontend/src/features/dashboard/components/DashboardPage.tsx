import { Link } from 'react-router';

import type { Batch } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import { BatchStatusBadge, Card, EmptyState, ErrorNotice, Spinner, StatCard } from '../../../components/ui';
import { useLiveBatch } from '../../../live/hooks';
import { formatDuration, formatNumber } from '../../../lib/format';
import { computeProgress } from '../../../lib/progress';
import { ActivityList } from '../../activity/components/ActivityList';
import { useRecentActivity } from '../../activity/api';
import { BatchProgressBar } from '../../batches/components/BatchProgressBar';
import { isBatchActive, useBatchSummary } from '../../batches/api';
import { useSummary } from '../api';

const RECENT_BATCHES = 3;

export function DashboardPage() {
  return (
    <>
      <PageHeader title="Dashboard" description="Live sends, totals and what happened lately.">
        <Link className="button button--secondary" to="/templates">
          Templates
        </Link>
        <Link className="button button--primary" to="/imports/new">
          New import
        </Link>
      </PageHeader>
      <div className="bento bento--dashboard">
        <Totals />
        <LiveBatches />
        <RecentActivity />
      </div>
    </>
  );
}

function Totals() {
  const summary = useSummary();
  const totals = summary.data;

  return (
    <Card title="Totals" className="bento__totals">
      <div className="stat-grid">
        <StatCard
          label="Contacts"
          value={totals === undefined ? '…' : formatNumber(totals.contacts)}
          data-testid="total-contacts"
        />
        <StatCard
          label="Batches"
          value={totals === undefined ? '…' : formatNumber(totals.batches)}
          data-testid="total-batches"
        />
        <StatCard
          label="Messages sent"
          value={totals === undefined ? '…' : formatNumber(totals.messages_sent)}
          tone="green"
          data-testid="total-sent"
        />
      </div>
      <ErrorNotice title="Cannot load totals." error={summary.error} />
    </Card>
  );
}

function LiveBatches() {
  const batches = useBatchSummary();
  const items = batches.data?.items ?? [];
  const active = items.filter(isBatchActive);
  const listedBatches = active.length > 0 ? active : items.slice(0, RECENT_BATCHES);

  return (
    <Card title="Live batches" focal className="bento__live" actions={<Link to="/batches">All batches</Link>}>
      {batches.isPending && <Spinner label="Loading batches…" />}
      {batches.isSuccess && items.length === 0 && (
        <EmptyState
          title="No batches yet."
          action={<Link to="/imports/new">Import a contact file to stage one</Link>}
        />
      )}
      {batches.isSuccess && items.length > 0 && active.length === 0 && (
        <p className="muted">No batch is sending now. Latest batches:</p>
      )}
      <ul className="live-batches">
        {listedBatches.map((batch) => (
          <LiveBatchRow key={batch.id} batch={batch} />
        ))}
      </ul>
    </Card>
  );
}

function LiveBatchRow({ batch }: { batch: Batch }) {
  const live = useLiveBatch(batch.id);
  const progress = computeProgress(batch.counts, batch.total);
  return (
    <li className="live-batches__item">
      <div className="live-batches__head">
        <Link to={`/batches/${batch.id}`} className="live-batches__name">
          {batch.name}
        </Link>
        <BatchStatusBadge status={batch.status} />
      </div>
      <BatchProgressBar batch={batch} />
      <p className="live-batches__meta muted">
        <span>
          {formatNumber(progress.finished)} of {formatNumber(progress.total)} finished ({progress.percent} %)
        </span>
        {isBatchActive(batch) && live?.rate != null && <span>{live.rate.toFixed(1)} messages/s</span>}
        {isBatchActive(batch) && live?.etaSeconds != null && <span>about {formatDuration(live.etaSeconds)} left</span>}
      </p>
    </li>
  );
}

function RecentActivity() {
  const activity = useRecentActivity(8);
  const entries = activity.data?.items ?? [];
  return (
    <Card title="Recent activity" className="bento__activity" actions={<Link to="/activity">All activity</Link>}>
      {activity.isPending && <Spinner label="Loading activity…" />}
      <ErrorNotice title="Cannot load activity." error={activity.error} />
      {activity.isSuccess && entries.length === 0 && <EmptyState title="No activity yet." />}
      {entries.length > 0 && <ActivityList entries={entries} />}
    </Card>
  );
}
