import type { Tone } from './Badge';

interface ProgressBarProps {
  /** Percent from 0 to 100. */
  value: number;
  label: string;
  /** Text for screen readers, such as "12 of 40 finished". */
  valueText?: string;
  tone?: Tone;
  size?: 'sm' | 'md';
  'data-testid'?: string;
}

export function ProgressBar({ value, label, valueText, tone = 'blue', size = 'md', ...rest }: ProgressBarProps) {
  const percent = Math.min(100, Math.max(0, value));
  return (
    <div
      className={`progress progress--${size}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-valuetext={valueText}
      data-testid={rest['data-testid']}
    >
      <div className={`progress__fill tone-${tone}`} style={{ width: `${percent}%` }} />
    </div>
  );
}
