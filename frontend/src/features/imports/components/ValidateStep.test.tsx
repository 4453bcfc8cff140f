import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createQueryClient } from '../../../api/queryClient';
import type { ImportFile, Validation } from '../../../api/types';
import { importFile } from '../testImport';
import { ValidateStep } from './ValidateStep';

const LINK_NAME = 'Download error report (CSV)';

function validation(invalidEmail: number, duplicates: number): Validation {
  return {
    total_rows: 100,
    valid_rows: 100 - invalidEmail - duplicates,
    invalid_rows: invalidEmail,
    duplicate_rows: duplicates,
    suppressed_rows: 0,
    reasons: { invalid_email: invalidEmail, missing_required: 0, duplicate: duplicates },
    errors: [],
  };
}

function validatedImport(result: Validation): ImportFile {
  return importFile({ status: 'validated', validation: result });
}

// The row error list is not under test here: every page the step asks for is empty.
const emptyErrorPage: typeof fetch = async () =>
  new Response(JSON.stringify({ items: [], total: 0, page: 1, page_size: 50 }), {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
  });

beforeEach(() => {
  vi.stubGlobal('fetch', emptyErrorPage);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function renderStep(result: Validation) {
  render(
    <QueryClientProvider client={createQueryClient()}>
      <ValidateStep imported={validatedImport(result)} onBack={() => undefined} onContinue={() => undefined} />
    </QueryClientProvider>,
  );
}

describe('ValidateStep error report link', () => {
  it('links to the whole report when rows have problems', () => {
    renderStep(validation(3, 2));

    const link = screen.getByRole('link', { name: LINK_NAME });
    expect(link).toHaveAttribute('href', '/api/v1/imports/imp-1/errors.csv');
    expect(link).toHaveAttribute('download');
  });

  it('follows the reason filter', async () => {
    const user = userEvent.setup();
    renderStep(validation(3, 2));

    await user.selectOptions(screen.getByLabelText('Filter by reason'), 'duplicate');

    expect(screen.getByRole('link', { name: LINK_NAME })).toHaveAttribute(
      'href',
      '/api/v1/imports/imp-1/errors.csv?reason=duplicate',
    );
  });

  it('is hidden when the filtered reason has no rows', async () => {
    const user = userEvent.setup();
    renderStep(validation(3, 2));

    await user.selectOptions(screen.getByLabelText('Filter by reason'), 'missing_required');

    expect(screen.queryByRole('link', { name: LINK_NAME })).not.toBeInTheDocument();
  });

  it('is hidden when every row is valid', () => {
    renderStep(validation(0, 0));

    expect(screen.queryByRole('link', { name: LINK_NAME })).not.toBeInTheDocument();
  });
});
