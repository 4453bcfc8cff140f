import { useLiveStatus } from '../../live/hooks';
import type { ConnectionStatus } from '../../live/reducer';

const LABELS: Record<ConnectionStatus, string> = {
  idle: 'Live updates off',
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
};

/** The system status: a green pulsing dot while the live socket is open. */
export function StatusPill() {
  const status = useLiveStatus();
  const tone = status === 'open' ? 'green' : status === 'reconnecting' ? 'yellow' : 'gray';
  return (
    <span className={`status-pill tone-${tone}`} role="status" data-testid="live-status" data-state={status}>
      <span className={`status-pill__dot ${status === 'open' ? 'pulse-dot' : ''}`} aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
