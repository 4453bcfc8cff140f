import { useLiveStatus } from '../../live/hooks';
import type { ConnectionStatus } from '../../live/reducer';

const TONES: Record<ConnectionStatus, string> = {
  idle: 'gray',
  connecting: 'gray',
  open: 'green',
  reconnecting: 'yellow',
};

const LABELS: Record<ConnectionStatus, string> = {
  idle: 'Live updates off',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
};

/** Renders the system status, with a green pulsing dot while the live socket is open. */
export function StatusPill() {
  const status = useLiveStatus();
  const tone = TONES[status];
  return (
    <span className={`status-pill tone-${tone}`} role="status" data-testid="live-status" data-state={status}>
      <span className={`status-pill__dot ${status === 'open' ? 'pulse-dot' : ''}`} aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
