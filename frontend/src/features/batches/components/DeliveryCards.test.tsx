import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';

import type { Batch } from '../../../api/types';
import { DeliveryCards } from './DeliveryCards';

const batch: Batch = {
  id: '0193a0c2-0000-7000-8000-000000000001',
  name: 'March news',
  status: 'completed',
  template_id: '0193a0c2-0000-7000-8000-000000000002',
  template_version_id: '0193a0c2-0000-7000-8000-000000000003',
  template_version_number: 1,
  subject: 'News',
  sender_email: 'news@example.com',
  sender_name: null,
  transport: 'brevo',
  total: 1000,
  counts: { staged: 0, queued: 0, processing: 0, sent: 1000, failed: 0, unsubscribed: 0, cancelled: 0 },
  delivery: { delivered: 980, bounced: 20, opened: 412, clicked: 57, complained: 3 },
  created_at: '2026-03-01T10:00:00Z',
  launched_at: '2026-03-01T10:01:00Z',
  completed_at: '2026-03-01T10:20:00Z',
};

describe('DeliveryCards', () => {
  it('renders each count with its share of sent', () => {
    render(<DeliveryCards batch={batch} />, { wrapper: MemoryRouter });

    const expected = [
      ['delivered', '980', '98 % of sent'],
      ['bounced', '20', '2 % of sent'],
      ['opened', '412', '41.2 % of sent'],
      ['clicked', '57', '5.7 % of sent'],
      ['complained', '3', '0.3 % of sent'],
    ];
    for (const [key, value, share] of expected) {
      const card = screen.getByTestId(`delivery-${key}`);
      expect(card).toHaveAttribute('data-value', value);
      expect(card).toHaveTextContent(share);
    }
  });

  it('links the webhook hint to the settings page', () => {
    render(<DeliveryCards batch={batch} />, { wrapper: MemoryRouter });

    expect(screen.getByRole('region', { name: 'Delivery' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Settings' })).toHaveAttribute('href', '/settings');
  });
});
