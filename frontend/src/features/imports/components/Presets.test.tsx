import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createQueryClient } from '../../../api/queryClient';
import type { MappingPreset } from '../../../api/types';
import { importFile } from '../testImport';
import { SuggestionSource } from './MappingStep';
import { defaultPresetName, PresetsCard, SavePresetForm } from './Presets';

interface Call {
  method: string;
  url: string;
  body: unknown;
}

const PRESET: MappingPreset = {
  id: 'pre-1',
  name: 'Mailchimp export',
  columns: ['Email Address', 'First Name'],
  mapping: { email: 'Email Address', first_name: 'First Name' },
  keep_unmapped: false,
  created_at: '2026-01-01T00:00:00Z',
};

/** Stubs fetch with one response per method and records every request. */
function stubFetch(answers: Record<string, { status: number; body: unknown }>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    calls.push({ method, url: String(input), body: init?.body ? JSON.parse(String(init.body)) : null });
    const answer = answers[method] ?? { status: 500, body: {} };
    const text = answer.status === 204 ? null : JSON.stringify(answer.body);
    return new Response(text, { status: answer.status, headers: { 'Content-Type': 'application/json' } });
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

function renderWithClient(children: React.ReactNode) {
  render(<QueryClientProvider client={createQueryClient()}>{children}</QueryClientProvider>);
}

describe('SuggestionSource', () => {
  it('names the preset the suggestion came from', () => {
    render(<SuggestionSource imported={importFile({ mapping: null, preset: { id: 'pre-1', name: 'Mailchimp' } })} />);

    expect(screen.getByTestId('mapping-source')).toHaveTextContent("Mapping from preset 'Mailchimp'");
  });

  it('says when the mapping of an earlier upload was reused', () => {
    render(<SuggestionSource imported={importFile({ mapping: null, reused_from: 'imp-0' })} />);

    expect(screen.getByTestId('mapping-source')).toHaveTextContent(
      'Mapping reused from your earlier upload of the same columns',
    );
  });

  it('says nothing once the mapping is confirmed', () => {
    render(<SuggestionSource imported={importFile({ mapping: { email: 'email' }, reused_from: 'imp-0' })} />);

    expect(screen.queryByTestId('mapping-source')).not.toBeInTheDocument();
  });
});

describe('SavePresetForm', () => {
  it('names the preset after the file', () => {
    expect(defaultPresetName('march-list.final.csv')).toBe('march-list.final');
  });

  it('saves the import mapping under the given name', async () => {
    const user = userEvent.setup();
    const calls = stubFetch({ POST: { status: 201, body: PRESET } });
    renderWithClient(<SavePresetForm imported={importFile()} />);

    const name = screen.getByLabelText('Preset name');
    await user.clear(name);
    await user.type(name, ' Mailchimp export ');
    await user.click(screen.getByRole('button', { name: 'Save as preset' }));

    expect(await screen.findByText("Saved as preset 'Mailchimp export'.")).toBeInTheDocument();
    expect(calls.find((call) => call.method === 'POST')).toEqual({
      method: 'POST',
      url: '/api/v1/mapping-presets',
      body: { name: 'Mailchimp export', import_id: 'imp-1' },
    });
  });

  it('shows why a name was rejected', async () => {
    const user = userEvent.setup();
    const message = "A mapping preset named 'Mailchimp export' already exists; choose another name.";
    stubFetch({ POST: { status: 409, body: { code: 'conflict', message, field: 'name', details: null } } });
    renderWithClient(<SavePresetForm imported={importFile()} />);

    await user.click(screen.getByRole('button', { name: 'Save as preset' }));

    expect(await screen.findByText(message)).toBeInTheDocument();
  });
});

describe('PresetsCard', () => {
  it('lists presets and deletes one', async () => {
    const user = userEvent.setup();
    const calls = stubFetch({ GET: { status: 200, body: { items: [PRESET] } }, DELETE: { status: 204, body: null } });
    renderWithClient(<PresetsCard />);

    expect(await screen.findByText('Mailchimp export')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Delete preset Mailchimp export' }));

    await waitFor(() => expect(calls.some((call) => call.method === 'DELETE')).toBe(true));
    expect(calls.find((call) => call.method === 'DELETE')?.url).toBe('/api/v1/mapping-presets/pre-1');
  });

  it('renders nothing without presets', async () => {
    const calls = stubFetch({ GET: { status: 200, body: { items: [] } } });
    renderWithClient(<PresetsCard />);

    await waitFor(() => expect(calls).toHaveLength(1));
    expect(screen.queryByRole('heading', { name: 'Mapping presets' })).not.toBeInTheDocument();
  });
});
