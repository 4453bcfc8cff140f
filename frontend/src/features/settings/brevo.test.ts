import { describe, expect, it } from 'vitest';

import { describePlanCredits, unreachableWebhookHost } from './brevo';

describe('describePlanCredits', () => {
  it('names the plan, the credits and their kind', () => {
    expect(describePlanCredits({ type: 'free', credits: 300, credits_type: 'sendLimit' })).toBe(
      'Free plan: 300 credits (send limit)',
    );
  });

  it('splits camelCase plan names into words', () => {
    expect(describePlanCredits({ type: 'payAsYouGo', credits: 12500, credits_type: 'sendLimit' })).toBe(
      'Pay as you go plan: 12,500 credits (send limit)',
    );
  });

  it('uses the singular for one credit', () => {
    expect(describePlanCredits({ type: 'free', credits: 1, credits_type: null })).toBe('Free plan: 1 credit');
  });

  it('shows fractional credits', () => {
    expect(describePlanCredits({ type: 'sms', credits: 2.5, credits_type: null })).toBe('Sms plan: 2.5 credits');
  });

  it('names the plan alone without credits', () => {
    expect(describePlanCredits({ type: 'subscription', credits: null, credits_type: 'sendLimit' })).toBe(
      'Subscription plan',
    );
  });
});

describe('unreachableWebhookHost', () => {
  it.each([
    ['http://localhost:8000/api/v1/webhooks/brevo/t', 'localhost'],
    ['http://127.0.0.1:8000/api/v1/webhooks/brevo/t', '127.0.0.1'],
    ['http://[::1]:8000/api/v1/webhooks/brevo/t', '[::1]'],
    ['http://10.1.2.3/api/v1/webhooks/brevo/t', '10.1.2.3'],
    ['http://172.20.0.5/api/v1/webhooks/brevo/t', '172.20.0.5'],
    ['http://192.168.1.10/api/v1/webhooks/brevo/t', '192.168.1.10'],
    ['http://169.254.1.1/api/v1/webhooks/brevo/t', '169.254.1.1'],
    ['http://mailer.local/api/v1/webhooks/brevo/t', 'mailer.local'],
    ['http://app.localhost/api/v1/webhooks/brevo/t', 'app.localhost'],
  ])('returns the host of %s', (url, host) => {
    expect(unreachableWebhookHost(url)).toBe(host);
  });

  it.each([
    'https://campaigns.example.com/api/v1/webhooks/brevo/t',
    'https://172.32.0.1/api/v1/webhooks/brevo/t',
    'https://203.0.113.7/api/v1/webhooks/brevo/t',
    'https://localhost.example.com/api/v1/webhooks/brevo/t',
  ])('returns null for the public URL %s', (url) => {
    expect(unreachableWebhookHost(url)).toBeNull();
  });

  it('returns null for text that is not a URL', () => {
    expect(unreachableWebhookHost('/api/v1/webhooks/brevo/t')).toBeNull();
  });
});
