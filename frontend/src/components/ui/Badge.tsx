import type { ReactNode } from 'react';

import type { BatchStatus, ContactStatus, RecipientStatus } from '../../api/types';

export type Tone = 'gray' | 'blue' | 'purple' | 'green' | 'red' | 'yellow';

interface BadgeProps {
  tone: Tone;
  children: ReactNode;
  /** Adds the pulsing dot used for live and active things. */
  pulse?: boolean;
  /** The machine value behind the label, as `data-status`. */
  status?: string;
  'data-testid'?: string;
}

export function Badge({ tone, children, pulse = false, status, ...rest }: BadgeProps) {
  return (
    <span className={`badge tone-${tone}`} data-testid={rest['data-testid']} data-status={status}>
      {pulse && <span className="pulse-dot" aria-hidden="true" />}
      {children}
    </span>
  );
}

// One colour per recipient state, everywhere in the dashboard.
export const RECIPIENT_TONES: Record<RecipientStatus, Tone> = {
  staged: 'gray',
  queued: 'blue',
  processing: 'purple',
  sent: 'green',
  failed: 'red',
  unsubscribed: 'yellow',
  cancelled: 'gray',
};

export const BATCH_TONES: Record<BatchStatus, Tone> = {
  staged: 'gray',
  running: 'purple',
  paused: 'yellow',
  completed: 'green',
  cancelled: 'gray',
};

export const CONTACT_TONES: Record<ContactStatus, Tone> = {
  subscribed: 'green',
  unsubscribed: 'yellow',
  bounced: 'red',
  complained: 'red',
};

export function capitalize(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1).replaceAll('_', ' ');
}

export function RecipientStatusBadge({ status }: { status: RecipientStatus }) {
  return (
    <Badge tone={RECIPIENT_TONES[status]} status={status}>
      {capitalize(status)}
    </Badge>
  );
}

export function BatchStatusBadge({ status, testId }: { status: BatchStatus; testId?: string }) {
  return (
    <Badge tone={BATCH_TONES[status]} pulse={status === 'running'} status={status} data-testid={testId}>
      {capitalize(status)}
    </Badge>
  );
}

export function ContactStatusBadge({ status }: { status: ContactStatus }) {
  return <Badge tone={CONTACT_TONES[status] ?? 'gray'}>{capitalize(status)}</Badge>;
}
