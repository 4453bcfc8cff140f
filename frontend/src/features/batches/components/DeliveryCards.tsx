import { Link } from 'react-router';

import type { Batch } from '../../../api/types';
import { StatCard } from '../../../components/ui';
import { formatNumber } from '../../../lib/format';
import { DELIVERY_OUTCOMES, shareOfSent } from '../delivery';

/** Renders one card per delivery outcome that Brevo's webhook reports for the batch. */
export function DeliveryCards({ batch }: { batch: Batch }) {
  // NOTE: no live event carries these counts, and a finished batch is not polled, so new
  // webhook events show only when the batch is fetched again, such as on the next visit to the page.
  return (
    <section className="delivery" aria-labelledby="delivery-title" data-testid="delivery">
      <header className="delivery__header">
        <h2 className="card__title" id="delivery-title">
          Delivery
        </h2>
        <p className="muted delivery__hint">
          Reported by Brevo&apos;s webhook, so these stay at 0 until the webhook from{' '}
          <Link to="/settings">Settings</Link> is added in Brevo.
        </p>
      </header>
      <div className="count-grid">
        {DELIVERY_OUTCOMES.map((outcome) => {
          const count = batch.delivery[outcome.key];
          return (
            <StatCard
              key={outcome.key}
              label={outcome.label}
              value={formatNumber(count)}
              rawValue={count}
              tone={outcome.tone}
              hint={shareOfSent(count, batch.counts.sent) ?? undefined}
              data-testid={`delivery-${outcome.key}`}
            />
          );
        })}
      </div>
    </section>
  );
}
