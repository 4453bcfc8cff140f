import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';

import { errorMessage } from '../../../api';
import type { Batch, ImportFile } from '../../../api/types';
import { Button, Card, ErrorNotice, Spinner, TextField, useToast } from '../../../components/ui';
import { formatNumber } from '../../../lib/format';
import { useBatch, useLaunchBatch } from '../../batches/api';
import { useResetLiveImport } from '../../../live/hooks';
import { useStageImport } from '../api';
import { jobState, lastPhase } from '../progress';
import { ImportJobProgress, JobStoppedNotice } from './ImportJob';

function defaultBatchName(imported: ImportFile): string {
  const base = imported.filename.replace(/\.[^.]+$/, '');
  const date = new Date().toISOString().slice(0, 10);
  return `${base} ${date}`;
}

export function StageStep({ imported, onBack }: { imported: ImportFile; onBack: () => void }) {
  if (imported.batch_id !== null) {
    return <StagedBatch batchId={imported.batch_id} />;
  }
  if (imported.status === 'staging') {
    return <ImportJobProgress imported={imported} />;
  }
  return <StageForm imported={imported} onBack={onBack} />;
}

function StageForm({ imported, onBack }: { imported: ImportFile; onBack: () => void }) {
  const resetLive = useResetLiveImport();
  const stage = useStageImport(imported.id, () => resetLive(imported.id));
  const [name, setName] = useState(() => defaultBatchName(imported));
  const state = jobState(imported.status);
  const stopped = (state === 'failed' || state === 'cancelled') && lastPhase(imported) === 'staging';

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    stage.mutate(name.trim());
  }

  return (
    <Card title="Stage a batch">
      <form className="form" onSubmit={submit}>
        {stopped && <JobStoppedNotice imported={imported} phase="staging" />}
        <p className="muted">
          Staging locks the template version and the sender, and creates one recipient per valid row
          {imported.validation ? ` (${formatNumber(imported.validation.valid_rows)})` : ''}. Nothing is sent until you
          launch.
        </p>
        <TextField label="Batch name" required value={name} onChange={(event) => setName(event.target.value)} />
        <ErrorNotice title="The batch was not staged." error={stage.error} />
        <div className="button-row">
          <Button onClick={onBack}>Back to validation</Button>
          <Button type="submit" variant="primary" busy={stage.isPending} disabled={name.trim() === ''}>
            {stopped ? 'Run again' : 'Stage batch'}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function StagedBatch({ batchId }: { batchId: string }) {
  const batch = useBatch(batchId, false);
  if (batch.isPending) {
    return <Spinner label="Loading batch…" />;
  }
  if (batch.error) {
    return <ErrorNotice title="Cannot load the staged batch." error={batch.error} />;
  }
  return <LaunchPanel batch={batch.data} />;
}

function LaunchPanel({ batch }: { batch: Batch }) {
  const launch = useLaunchBatch();
  const navigate = useNavigate();
  const toast = useToast();
  const sender = batch.sender_name ? `${batch.sender_name} <${batch.sender_email}>` : batch.sender_email;

  function launchBatch() {
    launch.mutate(batch.id, {
      onSuccess: () => navigate(`/batches/${batch.id}`),
      onError: (error) => toast.show('error', `Launch failed: ${errorMessage(error)}`),
    });
  }

  return (
    <Card title={`Batch ${batch.name}`} focal>
      <dl className="details">
        <dt>Recipients</dt>
        <dd>{formatNumber(batch.total)}</dd>
        <dt>Subject</dt>
        <dd>{batch.subject}</dd>
        <dt>Sender</dt>
        <dd>{sender}</dd>
        <dt>Template</dt>
        <dd>Version {batch.template_version_number}</dd>
        <dt>Transport</dt>
        <dd>
          {batch.transport === 'outbox' ? (
            <span className="text-warning">
              Local outbox: messages are written to the outbox folder in DATA_DIR, not sent
            </span>
          ) : (
            'Brevo'
          )}
        </dd>
      </dl>
      <div className="button-row">
        {batch.status === 'staged' ? (
          <Button variant="primary" busy={launch.isPending} onClick={launchBatch}>
            Launch
          </Button>
        ) : (
          <span className="muted">This batch was already launched.</span>
        )}
        <Link to={`/batches/${batch.id}`}>Open the batch page</Link>
      </div>
    </Card>
  );
}
