import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createQueryClient } from '../../../api/queryClient';
import type { Settings } from '../../../api/types';
import { ToastProvider } from '../../../components/ui';
import { settingsFixture } from '../testSettings';
import { SettingsPage } from './SettingsPage';

interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** The settings routes of the API in memory, with the range check of `send_concurrency`. */
class FakeSettingsApi {
  settings: Settings = settingsFixture();
  readonly requests: RecordedRequest[] = [];

  readonly fetch: typeof fetch = async (input, init) => {
    const path = new URL(String(input), 'http://127.0.0.1').pathname.replace('/api/v1', '');
    const method = init?.method ?? 'GET';
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : null;
    this.requests.push({ method, path, body });
    return this.answer(`${method} ${path}`, body as Partial<Settings>);
  };

  private answer(route: string, body: Partial<Settings>): Response {
    switch (route) {
      case 'GET /settings':
        return json(200, this.settings);
      case 'PUT /settings':
        if (body.send_concurrency !== undefined && body.send_concurrency > 16) {
          return json(400, {
            code: 'validation_error',
            message: `send_concurrency is ${body.send_concurrency}; it must be between 1 and 16.`,
            field: 'send_concurrency',
            details: null,
          });
        }
        this.settings = { ...this.settings, ...body };
        return json(200, this.settings);
      case 'POST /settings/check-key':
        return json(200, this.settings);
      case 'POST /settings/rotate-webhook':
        this.settings = { ...this.settings, webhook_url: 'https://campaigns.example.com/api/v1/webhooks/brevo/new' };
        return json(200, this.settings);
      default:
        return json(404, { code: 'not_found', message: `No route ${route}.`, field: null, details: null });
    }
  }

  sent(route: string): RecordedRequest[] {
    return this.requests.filter((request) => `${request.method} ${request.path}` === route);
  }
}

let server: FakeSettingsApi;

beforeEach(() => {
  server = new FakeSettingsApi();
  vi.stubGlobal('fetch', server.fetch);
  document.cookie = 'csrf_token=test-token';
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

async function renderSettings() {
  render(
    <QueryClientProvider client={createQueryClient()}>
      <ToastProvider>
        <SettingsPage />
      </ToastProvider>
    </QueryClientProvider>,
  );
  await screen.findByRole('heading', { name: 'Sending limits' });
}

describe('SettingsPage sending limits', () => {
  it('saves the changed limit only', async () => {
    const user = userEvent.setup();
    await renderSettings();

    const daily = screen.getByLabelText('Daily limit (messages per day)');
    await user.clear(daily);
    await user.type(daily, '300');
    await user.click(screen.getByRole('button', { name: 'Save limits' }));

    expect(await screen.findByText('Sending limits saved.')).toBeInTheDocument();
    expect(server.sent('PUT /settings').map((request) => request.body)).toEqual([{ daily_limit: 300 }]);
  });

  it('shows the API field error at its input', async () => {
    const user = userEvent.setup();
    await renderSettings();

    const concurrency = screen.getByLabelText('Concurrency (parallel requests)');
    await user.clear(concurrency);
    await user.type(concurrency, '20');
    await user.click(screen.getByRole('button', { name: 'Save limits' }));

    expect(await screen.findByText('send_concurrency is 20; it must be between 1 and 16.')).toBeInTheDocument();
    expect(concurrency).toHaveAttribute('aria-invalid', 'true');
    expect(concurrency).toHaveAccessibleDescription('send_concurrency is 20; it must be between 1 and 16.');
    expect(screen.getByLabelText('Daily limit (messages per day)')).not.toHaveAttribute('aria-invalid');
  });

  it('rejects a blank limit without a request', async () => {
    const user = userEvent.setup();
    await renderSettings();

    const hourly = screen.getByLabelText('Hourly limit (messages per hour)');
    await user.clear(hourly);
    await user.click(screen.getByRole('button', { name: 'Save limits' }));

    expect(hourly).toHaveAccessibleDescription('This limit is missing. Enter a number from 0 to 1,000,000,000.');
    expect(server.sent('PUT /settings')).toEqual([]);
  });
});

describe('SettingsPage key check', () => {
  it('shows the Brevo account and plan after a check', async () => {
    server.settings = settingsFixture();
    const user = userEvent.setup();
    await renderSettings();
    expect(screen.getByText('This key has not been checked yet.')).toBeInTheDocument();

    server.settings = settingsFixture({
      brevo_account: {
        email: 'owner@example.com',
        credits: [{ type: 'free', credits: 300, credits_type: 'sendLimit' }],
        checked_at: '2026-03-01T12:00:00Z',
        error: null,
      },
    });
    await user.click(screen.getByRole('button', { name: 'Check key' }));

    const account = await screen.findByTestId('key-check-account');
    expect(within(account).getByText('owner@example.com')).toBeInTheDocument();
    expect(within(account).getByText('Free plan: 300 credits (send limit)')).toBeInTheDocument();
    // The shown time is in the browser's time zone, so the check reads the machine value.
    const checkedAt = screen.getByText(/^Checked/).querySelector('time');
    expect(checkedAt).toHaveAttribute('datetime', '2026-03-01T12:00:00Z');
  });

  it('shows the stored error of a failed check', async () => {
    server.settings = settingsFixture({
      brevo_account: {
        email: null,
        credits: [],
        checked_at: '2026-03-01T12:00:00Z',
        error: 'Brevo rejected this API key (HTTP 401, unauthorized).',
      },
    });
    await renderSettings();

    expect(screen.getByTestId('key-check-error')).toHaveTextContent(
      'Key check failed.Brevo rejected this API key (HTTP 401, unauthorized).',
    );
    expect(screen.queryByTestId('key-check-account')).toBeNull();
  });

  it('disables the check without a key', async () => {
    server.settings = settingsFixture({ transport: 'outbox', brevo_key: { configured: false, last4: null } });
    await renderSettings();

    expect(screen.getByRole('button', { name: 'Check key' })).toBeDisabled();
    expect(screen.getByText('Save an API key first, then check it with Brevo.')).toBeInTheDocument();
  });
});

describe('SettingsPage webhook', () => {
  it('shows the URL read-only and copies it', async () => {
    const user = userEvent.setup();
    await renderSettings();

    const url = screen.getByLabelText('Webhook URL');
    expect(url).toHaveValue('https://campaigns.example.com/api/v1/webhooks/brevo/0193abcXy9');
    expect(url).toHaveAttribute('readonly');

    await user.click(screen.getByRole('button', { name: 'Copy' }));

    expect(await navigator.clipboard.readText()).toBe('https://campaigns.example.com/api/v1/webhooks/brevo/0193abcXy9');
    expect(await screen.findByText('Webhook URL copied.')).toBeInTheDocument();
  });

  it('rotates only after the confirm', async () => {
    const user = userEvent.setup();
    const confirm = vi.spyOn(window, 'confirm').mockReturnValueOnce(false).mockReturnValueOnce(true);
    await renderSettings();

    await user.click(screen.getByRole('button', { name: 'Rotate URL' }));
    expect(confirm.mock.calls[0]?.[0]).toContain('The old URL stops working');
    expect(server.sent('POST /settings/rotate-webhook')).toEqual([]);

    await user.click(screen.getByRole('button', { name: 'Rotate URL' }));
    expect(
      await screen.findByDisplayValue('https://campaigns.example.com/api/v1/webhooks/brevo/new'),
    ).toBeInTheDocument();
    expect(server.sent('POST /settings/rotate-webhook')).toHaveLength(1);
  });

  it('warns when Brevo cannot reach the URL', async () => {
    server.settings = settingsFixture({ webhook_url: 'http://localhost:8000/api/v1/webhooks/brevo/abc' });
    await renderSettings();

    expect(screen.getByText('Brevo cannot reach localhost.')).toBeInTheDocument();
  });
});
