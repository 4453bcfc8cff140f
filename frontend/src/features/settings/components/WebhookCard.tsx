import { useRef } from 'react';

import { errorMessage } from '../../../api';
import type { Settings } from '../../../api/types';
import { Button, Card, TextField, useToast } from '../../../components/ui';
import { copyText } from '../../../lib/clipboard';
import { useRotateWebhook } from '../api';
import { unreachableWebhookHost } from '../brevo';

/** Renders the Brevo webhook URL with Copy and Rotate buttons. */
export function WebhookCard({ settings }: { settings: Settings }) {
  const rotate = useRotateWebhook();
  const toast = useToast();
  const input = useRef<HTMLInputElement>(null);
  const unreachableHost = unreachableWebhookHost(settings.webhook_url);

  async function copy() {
    if (await copyText(settings.webhook_url)) {
      toast.show('success', 'Webhook URL copied.');
      return;
    }
    input.current?.focus();
    input.current?.select();
    toast.show('info', 'The browser does not allow copying here. The URL is selected: press Ctrl+C (⌘C on a Mac).');
  }

  function rotateUrl() {
    const confirmed = window.confirm(
      'Rotate the webhook URL? The old URL stops working at once, so Brevo events get lost until you paste the new URL into Brevo.',
    );
    if (!confirmed) {
      return;
    }
    rotate.mutate(undefined, {
      onSuccess: () => toast.show('success', 'Webhook URL rotated. Paste the new URL into Brevo.'),
      onError: (error) => toast.show('error', `Rotating the webhook URL failed: ${errorMessage(error)}`),
    });
  }

  return (
    <Card title="Brevo webhook" data-testid="brevo-webhook">
      <p className="muted">
        In Brevo, add a transactional webhook with this URL and the events delivered, hard bounce, soft bounce, blocked,
        spam, invalid, opened, click and unsubscribed.
      </p>
      <div>
        <div className="input-with-button">
          <TextField
            ref={input}
            label="Webhook URL"
            readOnly
            value={settings.webhook_url}
            className="mono"
            fieldClassName="field--grow"
            spellCheck={false}
            onFocus={(event) => event.target.select()}
            data-testid="webhook-url"
          />
          <Button onClick={() => void copy()}>Copy</Button>
        </div>
        <p className="field__hint">The token in the URL is its only password, so keep the URL private.</p>
      </div>
      {unreachableHost !== null && (
        <div className="notice notice--warning" role="status">
          <strong className="notice__title">Brevo cannot reach {unreachableHost}.</strong>
          <span>
            Set PUBLIC_BASE_URL in the server&apos;s .env to the public address of this dashboard, then restart the
            server.
          </span>
        </div>
      )}
      <div className="button-row">
        <Button variant="danger" busy={rotate.isPending} onClick={rotateUrl}>
          Rotate URL
        </Button>
        <span className="muted">Makes a new URL, for example after the old one was shared by mistake.</span>
      </div>
    </Card>
  );
}
