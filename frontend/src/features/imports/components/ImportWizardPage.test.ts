import { describe, expect, it } from 'vitest';

import type { Validation } from '../../../api/types';
import { importFile, progress } from '../testImport';
import { reachableSteps, stepOfImport } from './ImportWizardPage';

const VALIDATION: Validation = {
  total_rows: 3,
  valid_rows: 2,
  invalid_rows: 1,
  duplicate_rows: 0,
  suppressed_rows: 0,
  reasons: { invalid_email: 1, missing_required: 0, duplicate: 0 },
  errors: [],
};

describe('stepOfImport', () => {
  it('shows a running job on its step', () => {
    expect(stepOfImport(importFile({ status: 'validating' }))).toBe('validate');
    expect(stepOfImport(importFile({ status: 'staging' }))).toBe('stage');
  });

  it('shows a stopped job on the step of its phase', () => {
    expect(stepOfImport(importFile({ status: 'failed', progress: progress({ phase: 'validating' }) }))).toBe(
      'validate',
    );
    expect(
      stepOfImport(
        importFile({ status: 'cancelled', progress: progress({ phase: 'staging' }), validation: VALIDATION }),
      ),
    ).toBe('stage');
  });
});

describe('reachableSteps', () => {
  it('allows only the batch while staging runs', () => {
    expect([...reachableSteps(importFile({ status: 'staging', validation: VALIDATION }))]).toEqual(['stage']);
  });

  it('allows the validate step while validation runs, not staging', () => {
    const steps = reachableSteps(importFile({ status: 'validating', validation: VALIDATION }));

    expect(steps.has('validate')).toBe(true);
    expect(steps.has('stage')).toBe(false);
  });

  it('allows staging again after a cancelled staging', () => {
    const steps = reachableSteps(
      importFile({ status: 'cancelled', progress: progress({ phase: 'staging' }), validation: VALIDATION }),
    );

    expect(steps.has('stage')).toBe(true);
  });
});
