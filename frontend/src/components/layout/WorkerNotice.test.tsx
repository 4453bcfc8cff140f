import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createQueryClient } from '../../api/queryClient';
import { WorkerNotice } from './WorkerNotice';

function serveHealth(workers: number | null) {
  const fetchMock = vi.fn(() =>
    Promise.resolve(
      new Response(JSON.stringify({ status: 'ok', database: 'ok', redis: 'ok', workers }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      }),
    ),
  );
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

function renderNotice() {
  render(
    <QueryClientProvider client={createQueryClient()}>
      <WorkerNotice />
      <p>page</p>
    </QueryClientProvider>,
  );
}

describe('WorkerNotice', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('warns when no worker is alive', async () => {
    serveHealth(0);
    renderNotice();

    expect(await screen.findByTestId('worker-notice')).toHaveTextContent('No worker is running.');
  });

  it('stays hidden while a worker is alive', async () => {
    const fetchMock = serveHealth(2);
    renderNotice();

    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByTestId('worker-notice')).toBeNull();
  });

  it('stays hidden in the embedded default', async () => {
    const fetchMock = serveHealth(null);
    renderNotice();

    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByTestId('worker-notice')).toBeNull();
  });
});
