import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createQueryClient } from '../../../api/queryClient';
import type { ImportFile } from '../../../api/types';
import { LiveStoreContext } from '../../../live/LiveProvider';
import { LiveStore } from '../../../live/store';
import { importKeys } from '../api';
import { importFile, progress, progressEvent } from '../testImport';
import { ImportJobProgress, JobStoppedNotice } from './ImportJob';
import { StageStep } from './StageStep';
import { ValidateStep } from './ValidateStep';

interface Call {
  method: string;
  url: string;
}

/** Stubs fetch: records every request and returns `body` as JSON. */
function stubFetch(body: unknown): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ method: init?.method ?? 'GET', url: String(input) });
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

function renderWith(children: ReactNode, store: LiveStore | null = null) {
  const client = createQueryClient();
  render(
    <QueryClientProvider client={client}>
      <LiveStoreContext.Provider value={store}>{children}</LiveStoreContext.Provider>
    </QueryClientProvider>,
  );
  return client;
}

describe('ImportJobProgress', () => {
  it('draws the share of a CSV file read, with the counts', () => {
    const running = importFile({
      status: 'validating',
      progress: progress({ rows_read: 1200, valid: 1150, invalid: 50, bytes_read: 400, size_bytes: 1000 }),
    });

    renderWith(<ImportJobProgress imported={running} />);

    const bar = screen.getByRole('progressbar', { name: 'Validation progress' });
    expect(bar).toHaveAttribute('aria-valuenow', '40');
    expect(screen.getByTestId('job-rows-read')).toHaveAttribute('data-value', '1200');
    expect(screen.getByTestId('job-valid')).toHaveAttribute('data-value', '1150');
    expect(screen.getByTestId('job-invalid')).toHaveAttribute('data-value', '50');
  });

  it('draws an indeterminate bar for a spreadsheet', () => {
    const running = importFile({ status: 'validating', format: 'xlsx', progress: progress({ rows_read: 300 }) });

    renderWith(<ImportJobProgress imported={running} />);

    const bar = screen.getByRole('progressbar', { name: 'Validation progress' });
    expect(bar).not.toHaveAttribute('aria-valuenow');
    expect(bar).toHaveAttribute('aria-valuetext', '300 rows read');
  });

  it('follows live events', async () => {
    const store = new LiveStore();
    renderWith(<ImportJobProgress imported={importFile({ status: 'validating' })} />, store);

    store.dispatch({ type: 'event', event: progressEvent({ rows_read: 77, bytes_read: 900, size_bytes: 1000 }) });

    await waitFor(() => expect(screen.getByTestId('job-rows-read')).toHaveAttribute('data-value', '77'));
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '90');
  });

  it('shows recipients written while staging', () => {
    const staging = importFile({ status: 'staging', progress: progress({ phase: 'staging', staged: 42 }) });

    renderWith(<ImportJobProgress imported={staging} />);

    expect(screen.getByRole('heading', { name: 'Staging the batch' })).toBeInTheDocument();
    expect(screen.getByTestId('job-staged')).toHaveAttribute('data-value', '42');
  });

  it('cancels with POST /cancel and stores the answer', async () => {
    const user = userEvent.setup();
    const cancelled = importFile({ status: 'cancelled' });
    const calls = stubFetch(cancelled);
    const client = renderWith(<ImportJobProgress imported={importFile({ status: 'validating' })} />);

    await user.click(screen.getByRole('button', { name: 'Cancel' }));

    await waitFor(() => expect(calls.some((call) => call.method === 'POST')).toBe(true));
    expect(calls.find((call) => call.method === 'POST')?.url).toBe('/api/v1/imports/imp-1/cancel');
    await waitFor(() => expect(client.getQueryData<ImportFile>(importKeys.detail('imp-1'))?.status).toBe('cancelled'));
  });
});

describe('JobStoppedNotice', () => {
  it('shows the error of a failed job', () => {
    renderWith(
      <JobStoppedNotice
        imported={importFile({ status: 'failed', error: 'The file is gone; upload it again.' })}
        phase="validating"
      />,
    );

    expect(screen.getByRole('alert')).toHaveTextContent('Validation failed.');
    expect(screen.getByRole('alert')).toHaveTextContent('The file is gone; upload it again.');
  });

  it('says a cancelled job was cancelled', () => {
    renderWith(<JobStoppedNotice imported={importFile({ status: 'cancelled' })} phase="staging" />);

    expect(screen.getByRole('status')).toHaveTextContent('Staging was cancelled.');
  });
});

describe('ValidateStep job states', () => {
  it('shows progress while validating', () => {
    renderWith(<ValidateStep imported={importFile({ status: 'validating' })} onBack={vi.fn()} onContinue={vi.fn()} />);

    expect(screen.getByRole('progressbar', { name: 'Validation progress' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeInTheDocument();
  });

  it('runs a failed validation again', async () => {
    const user = userEvent.setup();
    const calls = stubFetch(importFile({ status: 'validating' }));
    const failed = importFile({ status: 'failed', error: 'Row 9 cannot be read.' });
    renderWith(<ValidateStep imported={failed} onBack={vi.fn()} onContinue={vi.fn()} />);

    expect(screen.getByRole('alert')).toHaveTextContent('Row 9 cannot be read.');
    await user.click(screen.getByRole('button', { name: 'Run again' }));

    await waitFor(() => expect(calls.some((call) => call.method === 'POST')).toBe(true));
    expect(calls.find((call) => call.method === 'POST')?.url).toBe('/api/v1/imports/imp-1/validate');
  });
});

describe('StageStep job states', () => {
  it('shows progress while staging', () => {
    renderWith(<StageStep imported={importFile({ status: 'staging' })} onBack={vi.fn()} />);

    expect(screen.getByRole('progressbar', { name: 'Staging progress' })).toBeInTheDocument();
  });

  it('offers to run a cancelled staging again', () => {
    const cancelled = importFile({ status: 'cancelled', progress: progress({ phase: 'staging' }) });

    renderWith(<StageStep imported={cancelled} onBack={vi.fn()} />);

    expect(screen.getByRole('status')).toHaveTextContent('Staging was cancelled.');
    expect(screen.getByRole('button', { name: 'Run again' })).toBeInTheDocument();
  });
});
