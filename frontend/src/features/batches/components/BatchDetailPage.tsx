import { Link, useParams } from 'react-router';

import { errorMessage } from '../../../api';
import type { Batch } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import { Badge, BatchStatusBadge, Button, Card, ErrorNotice, Spinner, useToast } from '../../../components/ui';
import { useLiveBatch, useLiveStatus } from '../../../live/hooks';
import { formatDateTime, formatDuration, formatNumber } from '../../../lib/format';
import { computeProgress } from '../../../lib/progress';
import { type BatchAction, failedExportUrl, isBatchActive, useBatch, useBatchAction, useLaunchBatch } from '../api';
import { BatchProgressBar } from './BatchProgressBar';
import { CountCards } from './CountCards';
import { DeliveryCards } from './DeliveryCards';
import { RecipientsTable } from './RecipientsTable';

export function BatchDetailPage() {
  const { id = '' } = useParams();
  const liveOpen = useLiveStatus() === 'open';
  const batch = useBatch(id, liveOpen);

  if (batch.isPending) {
    return <Spinner label="Loading batch…" />;
  }
  if (batch.error) {
    return <ErrorNotice title="Cannot load this batch." error={batch.error} />;
  }
  return <BatchDetail batch={batch.data} />;
}

function BatchDetail({ batch }: { batch: Batch }) {
  return (
    <>
      <PageHeader title={batch.name} description={<Link to="/batches">All batches</Link>}>
        <BatchStatusBadge status={batch.status} testId="batch-status" />
        {batch.status === 'completed' && batch.counts.failed > 0 && (
          <Badge tone="red" data-testid="batch-failed">
            {formatNumber(batch.counts.failed)} failed
          </Badge>
        )}
        {batch.status === 'staged' && <LaunchButton batch={batch} />}
        <BatchControls batch={batch} />
      </PageHeader>

      {batch.status === 'running' && batch.throttled_until && (
        <div className="notice notice--warning" role="status" data-testid="batch-throttled">
          <strong className="notice__title">Throttled.</strong>
          <span>
            A send limit from Settings holds this batch back until {formatDateTime(batch.throttled_until)}; it resumes
            by itself.
          </span>
        </div>
      )}

      {batch.status === 'paused' && batch.pause_reason && (
        <div className="notice notice--warning" role="status">
          <strong className="notice__title">Paused.</strong>
          <span>{batch.pause_reason}</span>
        </div>
      )}

      <div className="bento bento--detail">
        <ProgressCard batch={batch} />
        <DetailsCard batch={batch} />
      </div>

      <CountCards counts={batch.counts} />

      {batch.transport === 'brevo' && <DeliveryCards batch={batch} />}

      <Card title="Recipients">
        <RecipientsTable batchId={batch.id} />
      </Card>
    </>
  );
}

function LaunchButton({ batch }: { batch: Batch }) {
  const launch = useLaunchBatch();
  const toast = useToast();
  return (
    <Button
      variant="primary"
      busy={launch.isPending}
      onClick={() =>
        launch.mutate(batch.id, {
          onSuccess: () => toast.show('success', `Launched ${batch.name}.`),
          onError: (error) => toast.show('error', `Launch failed: ${errorMessage(error)}`),
        })
      }
    >
      Launch
    </Button>
  );
}

const ACTION_LABELS: Record<BatchAction, { label: string; done: string }> = {
  pause: { label: 'Pause', done: 'Paused' },
  resume: { label: 'Resume', done: 'Resumed' },
  cancel: { label: 'Cancel batch', done: 'Cancelled' },
  'retry-failed': { label: 'Retry failed', done: 'Retrying failed recipients of' },
};

export function availableActions(batch: Batch): BatchAction[] {
  const actions: BatchAction[] = [];
  if (batch.status === 'running') {
    actions.push('pause');
  }
  if (batch.status === 'paused') {
    actions.push('resume');
  }
  if (batch.counts.failed > 0 && batch.status !== 'staged' && batch.status !== 'cancelled') {
    actions.push('retry-failed');
  }
  if (batch.status === 'staged' || batch.status === 'running' || batch.status === 'paused') {
    actions.push('cancel');
  }
  return actions;
}

function BatchControls({ batch }: { batch: Batch }) {
  const action = useBatchAction();
  const toast = useToast();
  const run = (name: BatchAction) => {
    if (name === 'cancel' && !window.confirm(`Cancel ${batch.name}? Recipients not yet sent will not be sent.`)) {
      return;
    }
    action.mutate(
      { id: batch.id, action: name },
      {
        onSuccess: () => toast.show('success', `${ACTION_LABELS[name].done} ${batch.name}.`),
        onError: (error) => toast.show('error', `${ACTION_LABELS[name].label} failed: ${errorMessage(error)}`),
      },
    );
  };
  return (
    <>
      {availableActions(batch).map((name) => (
        <Button
          key={name}
          variant={name === 'cancel' ? 'danger' : 'secondary'}
          busy={action.isPending && action.variables?.action === name}
          onClick={() => run(name)}
        >
          {ACTION_LABELS[name].label}
        </Button>
      ))}
      {batch.counts.failed > 0 && (
        <a className="button button--secondary" href={failedExportUrl(batch.id)} download>
          Download failed (CSV)
        </a>
      )}
    </>
  );
}

function ProgressCard({ batch }: { batch: Batch }) {
  const live = useLiveBatch(batch.id);
  const progress = computeProgress(batch.counts, batch.total);
  const active = isBatchActive(batch);

  return (
    <Card title="Progress" focal className="progress-card">
      <p className="progress-card__figure">
        <span className="progress-card__percent">{progress.percent} %</span>
        <span className="muted">
          {formatNumber(progress.finished)} of {formatNumber(progress.total)} finished
        </span>
      </p>
      <BatchProgressBar batch={batch} data-testid="batch-progress" />
      {active && live !== null && (
        <p className="muted progress-card__rate">
          {live.rate !== null && <span>{live.rate.toFixed(1)} messages/s</span>}
          {live.etaSeconds !== null && <span>about {formatDuration(live.etaSeconds)} left</span>}
        </p>
      )}
    </Card>
  );
}

function DetailsCard({ batch }: { batch: Batch }) {
  const sender = batch.sender_name ? `${batch.sender_name} <${batch.sender_email}>` : batch.sender_email;
  return (
    <Card title="Details">
      <dl className="details">
        <dt>Template</dt>
        <dd>
          <Link to={`/templates/${batch.template_id}`}>Version {batch.template_version_number}</Link>
        </dd>
        <dt>Subject</dt>
        <dd>{batch.subject}</dd>
        <dt>Sender</dt>
        <dd>{sender}</dd>
        <dt>Transport</dt>
        <dd data-testid="batch-transport">
          {batch.transport === 'outbox' ? (
            <span className="text-warning">
              Local outbox: messages are written to the outbox folder in DATA_DIR, not sent
            </span>
          ) : (
            'Brevo'
          )}
        </dd>
        <dt>Staged</dt>
        <dd>{formatDateTime(batch.created_at)}</dd>
        <dt>Launched</dt>
        <dd>{formatDateTime(batch.launched_at)}</dd>
        <dt>Completed</dt>
        <dd>{formatDateTime(batch.completed_at)}</dd>
      </dl>
    </Card>
  );
}
