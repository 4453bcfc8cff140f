import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createQueryClient } from '../../../api/queryClient';
import { LoginPage } from './LoginPage';
import { SignupPage } from './SignupPage';

function serveOptions(signup: boolean) {
  const fetchMock = vi.fn(() =>
    Promise.resolve(
      new Response(JSON.stringify({ signup }), { status: 200, headers: { 'Content-Type': 'application/json' } }),
    ),
  );
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

function renderPage(page: ReactElement) {
  render(
    <QueryClientProvider client={createQueryClient()}>
      <MemoryRouter>{page}</MemoryRouter>
    </QueryClientProvider>,
  );
}

describe('closed sign-up', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('replaces the sign-up form with a notice', async () => {
    serveOptions(false);
    renderPage(<SignupPage />);

    expect(await screen.findByTestId('signup-closed')).toHaveTextContent('Ask its administrator');
    expect(screen.queryByRole('button', { name: 'Create account' })).toBeNull();
  });

  it('keeps the form while sign-up is open', async () => {
    const fetchMock = serveOptions(true);
    renderPage(<SignupPage />);

    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalled());
    expect(screen.getByRole('button', { name: 'Create account' })).toBeInTheDocument();
    expect(screen.queryByTestId('signup-closed')).toBeNull();
  });

  it('hides the sign-up link on the sign-in page', async () => {
    const fetchMock = serveOptions(false);
    renderPage(<LoginPage />);

    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalled());
    await vi.waitFor(() => expect(screen.queryByRole('link', { name: 'Create one' })).toBeNull());
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });
});
