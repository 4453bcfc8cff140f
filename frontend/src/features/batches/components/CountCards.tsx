import { RECIPIENT_STATES, type RecipientCounts } from '../../../api/types';
import { capitalize, RECIPIENT_TONES, StatCard } from '../../../components/ui';
import { formatNumber } from '../../../lib/format';

/** Renders one card per recipient state, in the state's colour. */
export function CountCards({ counts }: { counts: RecipientCounts }) {
  return (
    <div className="count-grid">
      {RECIPIENT_STATES.map((state) => (
        <StatCard
          key={state}
          label={capitalize(state)}
          value={formatNumber(counts[state] ?? 0)}
          rawValue={counts[state] ?? 0}
          tone={RECIPIENT_TONES[state]}
          data-testid={`count-${state}`}
        />
      ))}
    </div>
  );
}
