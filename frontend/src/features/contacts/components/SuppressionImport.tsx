import { useState } from 'react';

import type { SuppressionImportResult } from '../../../api/types';
import { Card, ErrorNotice, FileDrop, ProgressBar, StatCard, Table } from '../../../components/ui';
import { formatNumber } from '../../../lib/format';
import { useImportSuppressions } from '../api';

/** Uploads a list of addresses that must never be mailed, and shows what it changed. */
export function SuppressionImport() {
  const [progress, setProgress] = useState(0);
  const upload = useImportSuppressions(setProgress);

  function send(file: File) {
    setProgress(0);
    upload.mutate(file);
  }

  return (
    <Card title="Import suppression list">
      <p className="muted">
        A CSV or spreadsheet with an email column. Every address in it is marked unsubscribed and is skipped by all
        future batches.
      </p>
      <FileDrop
        label="Suppression list file"
        accept=".csv,.txt,.xlsx,.xls,.ods"
        disabled={upload.isPending}
        onFile={send}
      />
      {upload.isPending && <ProgressBar value={Math.round(progress * 100)} label="Suppression list upload" size="sm" />}
      <ErrorNotice title="The suppression list was not imported." error={upload.error} />
      {upload.data !== undefined && <SuppressionResult result={upload.data} />}
    </Card>
  );
}

function SuppressionResult({ result }: { result: SuppressionImportResult }) {
  return (
    <div className="stack" role="status" aria-label="Suppression import result">
      <div className="stat-grid stat-grid--compact">
        <StatCard label="Rows" value={formatNumber(result.total_rows)} />
        <StatCard label="Suppressed" value={formatNumber(result.suppressed)} tone="yellow" />
        <StatCard label="Already suppressed" value={formatNumber(result.already_suppressed)} tone="gray" />
        <StatCard
          label="Invalid rows"
          value={formatNumber(result.invalid_rows)}
          tone={result.invalid_rows > 0 ? 'red' : 'gray'}
        />
      </div>
      {result.errors.length > 0 && (
        <Table
          caption="Rows that were not imported"
          hideCaption={false}
          columns={[
            { key: 'row', header: 'Row', numeric: true, render: (error) => error.row_number },
            { key: 'message', header: 'Problem', render: (error) => error.message },
          ]}
          rows={result.errors}
          rowKey={(error) => `${error.row_number}-${error.column ?? ''}`}
        />
      )}
    </div>
  );
}
