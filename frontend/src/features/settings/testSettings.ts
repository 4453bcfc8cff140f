import type { Settings } from '../../api/types';

/** Settings as `GET /settings` returns them for an account with a stored key, for tests. */
export function settingsFixture(change: Partial<Settings> = {}): Settings {
  return {
    sender_email: 'news@example.com',
    sender_name: 'Example News',
    brevo_key: { configured: true, last4: 'a1B2' },
    use_env_key: false,
    use_env_sender: false,
    env_key_available: false,
    env_sender: null,
    transport: 'brevo',
    hourly_limit: 0,
    daily_limit: 5000,
    provider_rate_per_second: 10,
    send_concurrency: 2,
    brevo_account: null,
    webhook_url: 'https://campaigns.example.com/api/v1/webhooks/brevo/0193abcXy9',
    ...change,
  };
}
