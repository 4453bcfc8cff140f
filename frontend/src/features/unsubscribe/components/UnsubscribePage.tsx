import { useParams } from 'react-router';

import { ApiError } from '../../../api';
import { Button, ErrorNotice, Spinner } from '../../../components/ui';
import { useConfirmUnsubscribe, useUnsubscribeInfo } from '../api';

/** Renders the public page behind each message's unsubscribe link. Opening it changes nothing. */
export function UnsubscribePage() {
  const { token = '' } = useParams();
  const info = useUnsubscribeInfo(token);
  const confirm = useConfirmUnsubscribe(token);

  return (
    <main className="auth-page">
      <div className="auth-card card card--focal">
        <h1 className="auth-card__title">Unsubscribe</h1>
        {info.isPending && <Spinner label="Loading…" />}
        {info.error instanceof ApiError && info.error.status === 404 && (
          <p role="alert">This unsubscribe link is not valid. Check that the whole link was copied from the email.</p>
        )}
        {info.error && !(info.error instanceof ApiError && info.error.status === 404) && (
          <ErrorNotice error={info.error} />
        )}
        {info.data !== undefined && (
          <div className="stack">
            <p>
              Address: <strong className="mono">{info.data.email}</strong>
            </p>
            {confirm.isSuccess || info.data.status === 'unsubscribed' ? (
              <p className="notice notice--success" role="status">
                You are unsubscribed. This address will not receive more messages from this sender.
              </p>
            ) : (
              <>
                <p>Stop receiving messages from this sender at this address?</p>
                <Button variant="primary" busy={confirm.isPending} onClick={() => confirm.mutate()}>
                  Unsubscribe
                </Button>
              </>
            )}
            <ErrorNotice title="Unsubscribing failed." error={confirm.error} />
          </div>
        )}
      </div>
    </main>
  );
}
