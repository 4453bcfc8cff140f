import { useState, type FormEvent } from 'react';

import { ApiError, errorMessage } from '../../../api';
import type { Settings, SettingsUpdate } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import { Badge, Button, Card, ErrorNotice, Spinner, TextField, Toggle, useToast } from '../../../components/ui';
import { useSettings, useUpdateSettings } from '../api';
import { KeyCheck } from './KeyCheck';
import { LimitsCard } from './LimitsCard';
import { WebhookCard } from './WebhookCard';

export function SettingsPage() {
  const settings = useSettings();
  return (
    <>
      <PageHeader
        title="Settings"
        description="Who messages come from, how fast they go out, and how Brevo reports back."
      />
      {settings.isPending && <Spinner label="Loading settings…" />}
      <ErrorNotice title="Cannot load settings." error={settings.error} />
      {settings.data !== undefined && <SettingsForms settings={settings.data} />}
    </>
  );
}

function fieldError(error: unknown, field: string): string | null {
  return error instanceof ApiError && error.field === field ? error.message : null;
}

function SettingsForms({ settings }: { settings: Settings }) {
  return (
    <div className="bento bento--settings">
      <TransportCard settings={settings} />
      <SenderCard settings={settings} />
      <BrevoKeyCard settings={settings} />
      <LimitsCard settings={settings} />
      <WebhookCard settings={settings} />
    </div>
  );
}

// The server takes the key and the sender from .env when the toggle is on or the account has
// none stored (AccountSettingsService.delivery_config), so the toggles alone do not tell.
function keyInUse(settings: Settings): string {
  const fromEnv = settings.env_key_available && (settings.use_env_key || !settings.brevo_key.configured);
  return fromEnv ? 'the API key from .env' : `the stored key ending in ${settings.brevo_key.last4 ?? '…'}`;
}

function senderInUse(settings: Settings): string {
  const envSender = settings.env_sender;
  if (envSender !== null && (settings.use_env_sender || settings.sender_email === '')) {
    return `${envSender.name ? `${envSender.name} ` : ''}<${envSender.email}>, from .env`;
  }
  if (settings.sender_email === '') {
    return 'not set';
  }
  return `${settings.sender_name ? `${settings.sender_name} ` : ''}<${settings.sender_email}>`;
}

function TransportCard({ settings }: { settings: Settings }) {
  return (
    <Card title="Transport" focal className="bento__wide" data-testid="transport">
      {settings.transport === 'brevo' ? (
        <>
          <p>
            <Badge tone="green" pulse>
              Brevo
            </Badge>{' '}
            Messages are sent through Brevo&apos;s transactional API with {keyInUse(settings)}.
          </p>
          <p className="muted">Sender: {senderInUse(settings)}</p>
        </>
      ) : (
        <p>
          <Badge tone="yellow">Local outbox</Badge> Messages are written as .eml files to the outbox folder in DATA_DIR,
          not sent. Add a Brevo API key below to send for real.
        </p>
      )}
    </Card>
  );
}

function SenderCard({ settings }: { settings: Settings }) {
  const update = useUpdateSettings();
  const toast = useToast();
  const [email, setEmail] = useState(settings.sender_email ?? '');
  const [name, setName] = useState(settings.sender_name ?? '');
  const envSender = settings.env_sender;
  const usingEnv = settings.use_env_sender && envSender !== null;

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    update.mutate(
      { sender_email: email.trim(), sender_name: name.trim() },
      { onSuccess: () => toast.show('success', 'Sender saved.') },
    );
  }

  function setUseEnv(value: boolean) {
    update.mutate(
      { use_env_sender: value },
      { onError: (error) => toast.show('error', `Cannot change the sender source: ${errorMessage(error)}`) },
    );
  }

  return (
    <Card title="Sender">
      <form className="form" onSubmit={save}>
        {envSender !== null && (
          <Toggle
            label="Use the sender from .env"
            checked={settings.use_env_sender}
            disabled={update.isPending}
            onChange={setUseEnv}
            hint={`${envSender.name ? `${envSender.name} ` : ''}<${envSender.email}>`}
          />
        )}
        <TextField
          label="Sender email"
          type="email"
          value={email}
          disabled={usingEnv}
          onChange={(event) => setEmail(event.target.value)}
          error={fieldError(update.error, 'sender_email')}
          hint="Must be a sender verified in your Brevo account."
        />
        <TextField
          label="Sender name"
          value={name}
          disabled={usingEnv}
          onChange={(event) => setName(event.target.value)}
          error={fieldError(update.error, 'sender_name')}
        />
        {update.error !== null &&
          fieldError(update.error, 'sender_email') === null &&
          fieldError(update.error, 'sender_name') === null && <ErrorNotice error={update.error} />}
        <div>
          <Button type="submit" variant="primary" busy={update.isPending} disabled={usingEnv}>
            Save sender
          </Button>
        </div>
      </form>
    </Card>
  );
}

function BrevoKeyCard({ settings }: { settings: Settings }) {
  const update = useUpdateSettings();
  const toast = useToast();
  const [key, setKey] = useState('');
  const usingEnv = settings.use_env_key && settings.env_key_available;

  function send(change: SettingsUpdate, success: string) {
    update.mutate(change, {
      onSuccess: () => {
        setKey('');
        toast.show('success', success);
      },
    });
  }

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (key.trim() !== '') {
      send({ brevo_api_key: key.trim() }, 'Brevo API key saved.');
    }
  }

  return (
    <Card title="Brevo API key">
      <form className="form" onSubmit={save}>
        {settings.env_key_available && (
          <Toggle
            label="Use the API key from .env"
            checked={settings.use_env_key}
            disabled={update.isPending}
            onChange={(value) =>
              send({ use_env_key: value }, value ? 'Using the key from .env.' : 'Using the stored key.')
            }
            hint="The server reads this key from its environment; it is never sent to the browser."
          />
        )}
        <p className="muted" data-testid="brevo-key-state">
          {settings.brevo_key.configured
            ? `Stored key: configured, ending in ${settings.brevo_key.last4 ?? '…'}`
            : 'Stored key: not configured'}
        </p>
        <TextField
          label={settings.brevo_key.configured ? 'Replace stored key' : 'API key'}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          disabled={usingEnv}
          onChange={(event) => setKey(event.target.value)}
          error={fieldError(update.error, 'brevo_api_key')}
          hint="Stored encrypted and never shown again."
        />
        {update.error !== null && fieldError(update.error, 'brevo_api_key') === null && (
          <ErrorNotice error={update.error} />
        )}
        <div className="button-row">
          <Button type="submit" variant="primary" busy={update.isPending} disabled={usingEnv || key.trim() === ''}>
            Save key
          </Button>
          {settings.brevo_key.configured && (
            <Button
              variant="danger"
              disabled={update.isPending}
              onClick={() => send({ brevo_api_key: '' }, 'Stored key removed.')}
            >
              Remove stored key
            </Button>
          )}
        </div>
      </form>
      <KeyCheck settings={settings} />
    </Card>
  );
}
