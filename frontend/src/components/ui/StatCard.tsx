import type { ReactNode } from 'react';

import type { Tone } from './Badge';

interface StatCardProps {
  label: string;
  value: ReactNode;
  tone?: Tone;
  hint?: ReactNode;
  /** The raw number, as `data-value`, for tests that read the card. */
  rawValue?: number;
  'data-testid'?: string;
}

export function StatCard({ label, value, tone, hint, rawValue, ...rest }: StatCardProps) {
  return (
    <div
      className={`stat ${tone !== undefined ? `stat--${tone}` : ''}`}
      data-testid={rest['data-testid']}
      data-value={rawValue}
    >
      <span className="stat__label">{label}</span>
      <span className="stat__value">{value}</span>
      {hint !== undefined && <span className="stat__hint">{hint}</span>}
    </div>
  );
}
