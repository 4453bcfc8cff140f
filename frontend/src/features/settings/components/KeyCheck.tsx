import type { BrevoAccount, Settings } from '../../../api/types';
import { Button, ErrorNotice } from '../../../components/ui';
import { formatDateTime } from '../../../lib/format';
import { describePlanCredits } from '../brevo';
import { useCheckKey } from '../api';

/** Renders the "Check key" button and the last check of the key in effect. */
export function KeyCheck({ settings }: { settings: Settings }) {
  const check = useCheckKey();
  const hasKey = settings.transport === 'brevo';

  return (
    <div className="key-check" data-testid="key-check">
      <div className="button-row">
        <Button busy={check.isPending} disabled={!hasKey} onClick={() => check.mutate()}>
          Check key
        </Button>
        <span className="muted">
          {hasKey
            ? 'Asks Brevo which account the key in effect belongs to.'
            : 'Save an API key first, then check it with Brevo.'}
        </span>
      </div>
      <ErrorNotice title="Key check failed." error={check.error} />
      {hasKey && <KeyCheckResult account={settings.brevo_account} />}
    </div>
  );
}

function CheckedAt({ account }: { account: BrevoAccount }) {
  return (
    <p className="muted key-check__time">
      Checked <time dateTime={account.checked_at}>{formatDateTime(account.checked_at)}</time>. Brevo allows 100 checks
      per hour, so a repeat within 10 minutes shows this result again.
    </p>
  );
}

function KeyCheckResult({ account }: { account: BrevoAccount | null }) {
  if (account === null) {
    return <p className="muted">This key has not been checked yet.</p>;
  }

  if (account.error !== null) {
    return (
      <>
        <div className="notice notice--error" data-testid="key-check-error">
          <strong className="notice__title">Key check failed.</strong>
          <span>{account.error}</span>
        </div>
        <CheckedAt account={account} />
      </>
    );
  }

  return (
    <>
      <dl className="details" data-testid="key-check-account">
        <dt>Brevo account</dt>
        <dd>{account.email ?? 'no email returned'}</dd>
        <dt>Plan</dt>
        <dd>
          {account.credits.length === 0 ? (
            'no plan returned'
          ) : (
            <ul className="plain-list">
              {account.credits.map((plan, index) => (
                <li key={`${plan.type}-${index}`}>{describePlanCredits(plan)}</li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
      <CheckedAt account={account} />
    </>
  );
}
