import type { DeliveryCounts } from '../../api/types';
import type { Tone } from '../../components/ui';

export interface DeliveryOutcome {
  key: keyof DeliveryCounts;
  label: string;
  tone: Tone;
}

// Bounced and complained are red, as the contact statuses they set are on the contacts page.
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = [
  { key: 'delivered', label: 'Delivered', tone: 'green' },
  { key: 'bounced', label: 'Bounced', tone: 'red' },
  { key: 'opened', label: 'Opened', tone: 'blue' },
  { key: 'clicked', label: 'Clicked', tone: 'purple' },
  { key: 'complained', label: 'Complained', tone: 'red' },
];

// One decimal, because complaint rates matter in tenths: Gmail and Yahoo ask bulk senders
// to stay under 0.3 %.
const shareFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** Formats a count as a share of the sent messages, "12.5 % of sent", or null while none is sent. */
export function shareOfSent(count: number, sent: number): string | null {
  if (sent <= 0) {
    return null;
  }
  return `${shareFormat.format((count / sent) * 100)} % of sent`;
}
