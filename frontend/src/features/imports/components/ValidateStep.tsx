import { useState } from 'react';

import type { ImportFile, RowError, Validation } from '../../../api/types';
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  SelectField,
  Spinner,
  StatCard,
  Table,
  type Column,
} from '../../../components/ui';
import { formatNumber } from '../../../lib/format';
import { useResetLiveImport } from '../../../live/hooks';
import { ERRORS_PAGE_SIZE, errorReportUrl, useImportErrors, useImportValidation, useValidateImport } from '../api';
import { jobState } from '../progress';
import { ImportJobProgress, JobStoppedNotice } from './ImportJob';
import { SavePresetForm } from './Presets';

const REASON_LABELS: Record<string, string> = {
  invalid_email: 'Invalid email',
  missing_required: 'Missing required field',
  duplicate: 'Duplicate',
  suppressed: 'Suppressed',
};

function reasonLabel(reason: string): string {
  return REASON_LABELS[reason] ?? reason;
}

const COLUMNS: Column<RowError>[] = [
  { key: 'row', header: 'Row', numeric: true, render: (error) => error.row_number },
  { key: 'column', header: 'Column', render: (error) => error.column || '—' },
  { key: 'value', header: 'Value', render: (error) => <span className="mono">{error.value ?? ''}</span> },
  {
    key: 'reason',
    header: 'Reason',
    render: (error) => (
      <Badge tone={error.reason === 'duplicate' ? 'yellow' : 'red'}>{reasonLabel(error.reason)}</Badge>
    ),
  },
  { key: 'message', header: 'Problem', render: (error) => error.message },
];

interface ValidateStepProps {
  imported: ImportFile;
  onBack: () => void;
  onContinue: () => void;
}

const HAS_RESULT: ReadonlySet<string> = new Set(['validated', 'staging', 'staged']);

export function ValidateStep({ imported, onBack, onContinue }: ValidateStepProps) {
  const state = jobState(imported.status);
  // The import carries its validation; GET /validation is asked only when it does not.
  const fetched = useImportValidation(imported.id, imported.validation === null && HAS_RESULT.has(imported.status));
  const validation = imported.validation ?? fetched.data ?? null;

  if (state === 'running') {
    return <ImportJobProgress imported={imported} />;
  }
  if (state === 'failed' || state === 'cancelled') {
    return <ValidationStopped imported={imported} onBack={onBack} />;
  }
  if (validation === null) {
    return (
      <Card title="Validation">
        <p>This import has not been validated with its current mapping.</p>
        <ErrorNotice title="Cannot load the validation result." error={fetched.error} />
        <Button onClick={onBack}>Back to mapping</Button>
      </Card>
    );
  }
  return (
    <div className="stack">
      <ValidationSummary validation={validation} />
      <Card title="Rows with problems">
        <RowErrors importId={imported.id} validation={validation} />
      </Card>
      {imported.mapping !== null && <SavePresetForm imported={imported} />}
      <div className="button-row">
        <Button onClick={onBack}>Back to mapping</Button>
        <Button variant="primary" onClick={onContinue} disabled={validation.valid_rows === 0}>
          Continue to staging
        </Button>
        {validation.valid_rows === 0 && (
          <span className="text-error">No row is valid, so there is nothing to stage.</span>
        )}
      </div>
    </div>
  );
}

function ValidationStopped({ imported, onBack }: { imported: ImportFile; onBack: () => void }) {
  const resetLive = useResetLiveImport();
  const validate = useValidateImport(imported.id, () => resetLive(imported.id));
  return (
    <Card title="Validation">
      <div className="stack">
        <JobStoppedNotice imported={imported} phase="validating" />
        <ErrorNotice title="Validation did not start." error={validate.error} />
        <div className="button-row">
          <Button onClick={onBack}>Back to mapping</Button>
          <Button variant="primary" busy={validate.isPending} onClick={() => validate.mutate()}>
            Run again
          </Button>
        </div>
      </div>
    </Card>
  );
}

function ValidationSummary({ validation }: { validation: Validation }) {
  return (
    <div className="stat-grid stat-grid--five">
      <StatCard
        label="Rows"
        value={formatNumber(validation.total_rows)}
        rawValue={validation.total_rows}
        data-testid="validation-total"
      />
      <StatCard
        label="Valid"
        value={formatNumber(validation.valid_rows)}
        rawValue={validation.valid_rows}
        tone="green"
        data-testid="validation-valid"
      />
      <StatCard
        label="Invalid"
        value={formatNumber(validation.invalid_rows)}
        rawValue={validation.invalid_rows}
        tone="red"
        data-testid="validation-invalid"
      />
      <StatCard
        label="Duplicates"
        value={formatNumber(validation.duplicate_rows)}
        rawValue={validation.duplicate_rows}
        tone="yellow"
        data-testid="validation-duplicates"
      />
      <StatCard
        label="Suppressed"
        value={formatNumber(validation.suppressed_rows)}
        rawValue={validation.suppressed_rows}
        tone="gray"
        data-testid="validation-suppressed"
      />
    </div>
  );
}

function RowErrors({ importId, validation }: { importId: string; validation: Validation }) {
  const [reason, setReason] = useState('');
  const [page, setPage] = useState(1);
  const errors = useImportErrors(importId, page, reason);
  const pageCount = errors.data ? Math.max(1, Math.ceil(errors.data.total / ERRORS_PAGE_SIZE)) : 1;

  const reasonCounts: Record<string, number> = validation.reasons;
  const problemRows = reason ? (reasonCounts[reason] ?? 0) : validation.invalid_rows + validation.duplicate_rows;

  const reasonOptions = [
    { value: '', label: 'All reasons' },
    ...Object.entries(validation.reasons).map(([key, count]) => ({
      value: key,
      label: `${reasonLabel(key)} (${formatNumber(count)})`,
    })),
  ];

  return (
    <div className="stack">
      <div className="toolbar">
        <SelectField
          label="Filter by reason"
          value={reason}
          options={reasonOptions}
          onChange={(event) => {
            setReason(event.target.value);
            setPage(1);
          }}
        />
        {problemRows > 0 && (
          <a className="button button--secondary" href={errorReportUrl(importId, reason)} download>
            Download error report (CSV)
          </a>
        )}
      </div>
      {errors.isPending && <Spinner label="Loading row errors…" />}
      <ErrorNotice title="Cannot load row errors." error={errors.error} />
      {errors.data !== undefined && (
        <>
          <Table
            caption="Row errors"
            columns={COLUMNS}
            rows={errors.data.items}
            rowKey={(error) => `${error.row_number}-${error.column ?? ''}-${error.reason}`}
            data-testid="row-errors"
            empty={<EmptyState title={reason ? 'No rows with this problem.' : 'Every row is valid.'} />}
          />
          {errors.data.total > ERRORS_PAGE_SIZE && (
            <div className="pager">
              <Button size="sm" disabled={page <= 1 || errors.isFetching} onClick={() => setPage(page - 1)}>
                Previous page
              </Button>
              <span className="muted">
                Page {page} of {pageCount} ({formatNumber(errors.data.total)} rows)
              </span>
              <Button size="sm" disabled={page >= pageCount || errors.isFetching} onClick={() => setPage(page + 1)}>
                Next page
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
