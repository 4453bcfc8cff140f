import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

import type { ImportFile, ImportPhase, ImportProgress } from '../../../api/types';
import { Button, Card, ErrorNotice } from '../../../components/ui';
import { formatNumber } from '../../../lib/format';
import { useLiveImport } from '../../../live/hooks';
import { importKeys, useCancelImport } from '../api';
import { currentProgress, finishedSinceSnapshot, readFraction } from '../progress';
import '../imports.css';

const PHASE_TITLES: Record<ImportPhase, string> = {
  validating: 'Validating rows',
  staging: 'Staging the batch',
};

const PHASE_NAMES: Record<ImportPhase, string> = {
  validating: 'Validation',
  staging: 'Staging',
};

/** Shows a running job's progress from live events (or polling) with a Cancel button. */
export function ImportJobProgress({ imported }: { imported: ImportFile }) {
  const live = useLiveImport(imported.id);
  const queryClient = useQueryClient();
  const cancel = useCancelImport(imported.id);
  const phase: ImportPhase = imported.status === 'staging' ? 'staging' : 'validating';
  const progress = currentProgress(imported, live);
  const finished = finishedSinceSnapshot(imported, live);

  // The job ended before the snapshot caught up: load the import again to show its result.
  useEffect(() => {
    if (finished) {
      void queryClient.invalidateQueries({ queryKey: importKeys.detail(imported.id) });
    }
  }, [finished, imported.id, queryClient]);

  return (
    <Card title={PHASE_TITLES[phase]} focal data-testid="import-job">
      <JobBar format={imported.format} phase={phase} progress={progress} />
      <JobCounts phase={phase} progress={progress} />
      <ErrorNotice title="The job was not cancelled." error={cancel.error} />
      <div className="button-row">
        <Button variant="danger" busy={cancel.isPending} onClick={() => cancel.mutate()}>
          Cancel
        </Button>
      </div>
    </Card>
  );
}

interface JobBarProps {
  format: string;
  phase: ImportPhase;
  progress: ImportProgress | null;
}

export function JobBar({ format, phase, progress }: JobBarProps) {
  const fraction = readFraction(format, progress);
  const rows = progress?.rows_read ?? 0;
  const label = `${PHASE_NAMES[phase]} progress`;
  if (fraction === null) {
    return (
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuetext={`${formatNumber(rows)} rows read`}
        data-testid="import-progress"
        data-indeterminate="true"
      >
        <div className="progress__fill import-job__indeterminate" />
      </div>
    );
  }
  const percent = Math.floor(fraction * 100);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-valuetext={`${percent} % of the file read, ${formatNumber(rows)} rows`}
      data-testid="import-progress"
    >
      <div className="progress__fill tone-blue" style={{ width: `${percent}%` }} />
    </div>
  );
}

function JobCounts({ phase, progress }: { phase: ImportPhase; progress: ImportProgress | null }) {
  const counts: [string, string, number][] = [
    ['rows-read', 'Rows read', progress?.rows_read ?? 0],
    ['valid', 'Valid', progress?.valid ?? 0],
    ['invalid', 'Invalid', progress?.invalid ?? 0],
  ];
  if (phase === 'staging') {
    counts.push(['staged', 'Recipients written', progress?.staged ?? 0]);
  }
  return (
    <dl className="import-job__counts" aria-label="Job counts">
      {counts.map(([key, label, value]) => (
        <div key={key} data-testid={`job-${key}`} data-value={value}>
          <dt className="visually-hidden">{label}</dt>
          <dd style={{ margin: 0 }}>
            {label}: <strong>{formatNumber(value)}</strong>
          </dd>
        </div>
      ))}
    </dl>
  );
}

interface JobStoppedProps {
  imported: ImportFile;
  phase: ImportPhase;
}

/** Says that the last job failed (with the server's reason and fix) or was cancelled. */
export function JobStoppedNotice({ imported, phase }: JobStoppedProps) {
  if (imported.status === 'failed') {
    return (
      <div className="notice notice--error" role="alert" data-testid="import-job-failed">
        <strong className="notice__title">{PHASE_NAMES[phase]} failed.</strong>
        <span>{imported.error || 'The job stopped without a reason. Run it again.'}</span>
      </div>
    );
  }
  if (imported.status === 'cancelled') {
    return (
      <div className="notice notice--warning" role="status" data-testid="import-job-cancelled">
        <strong className="notice__title">{PHASE_NAMES[phase]} was cancelled.</strong>
        <span>Run it again when you are ready.</span>
      </div>
    );
  }
  return null;
}
