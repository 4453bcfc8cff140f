import type { Batch } from '../../../api/types';
import { ProgressBar, type Tone } from '../../../components/ui';
import { formatNumber } from '../../../lib/format';
import { computeProgress } from '../../../lib/progress';

const TONE_BY_STATUS: Record<Batch['status'], Tone> = {
  staged: 'gray',
  running: 'blue',
  paused: 'yellow',
  completed: 'green',
  cancelled: 'gray',
};

interface BatchProgressBarProps {
  batch: Pick<Batch, 'name' | 'status' | 'counts' | 'total'>;
  size?: 'sm' | 'md';
  'data-testid'?: string;
}

export function BatchProgressBar({ batch, size = 'md', ...rest }: BatchProgressBarProps) {
  const progress = computeProgress(batch.counts, batch.total);
  return (
    <ProgressBar
      value={progress.percent}
      label={`Progress of ${batch.name}`}
      valueText={`${formatNumber(progress.finished)} of ${formatNumber(progress.total)} finished, ${progress.percent} %`}
      tone={TONE_BY_STATUS[batch.status]}
      size={size}
      data-testid={rest['data-testid']}
    />
  );
}
