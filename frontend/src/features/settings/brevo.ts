import type { PlanCredits } from '../../api/types';
import { formatNumber } from '../../lib/format';

/** Splits Brevo's camelCase names into words: `payAsYouGo` becomes `pay as you go`. */
function words(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replaceAll('_', ' ')
    .toLowerCase();
}

/** Describes one plan entry of a Brevo account, such as "Free plan: 300 credits (send limit)". */
export function describePlanCredits(plan: PlanCredits): string {
  const name = words(plan.type);
  const title = `${name.charAt(0).toUpperCase()}${name.slice(1)} plan`;
  if (plan.credits === null) {
    return title;
  }

  const amount = `${formatNumber(plan.credits)} ${plan.credits === 1 ? 'credit' : 'credits'}`;
  const kind = plan.credits_type ? ` (${words(plan.credits_type)})` : '';
  return `${title}: ${amount}${kind}`;
}

const PRIVATE_IPV4 = [/^10\./, /^127\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./, /^0\.0\.0\.0$/];

/**
 * Returns the host of a webhook URL that Brevo's servers cannot reach (a loopback, private or
 * link-local address, or a `.local` name), or null for any other host.
 */
export function unreachableWebhookHost(url: string): string | null {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }

  const bareHost = host.replace(/^\[|\]$/g, '');
  const local =
    bareHost === 'localhost' ||
    bareHost.endsWith('.localhost') ||
    bareHost.endsWith('.local') ||
    bareHost === '::1' ||
    PRIVATE_IPV4.some((pattern) => pattern.test(bareHost));
  return local ? host : null;
}
