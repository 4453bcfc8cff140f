import { useState } from 'react';

import type { ImportFile } from '../../../api/types';
import { Button, Card, ErrorNotice, FileDrop, ProgressBar, Table } from '../../../components/ui';
import { formatDateTime } from '../../../lib/format';
import { useUploadImport } from '../api';
import { columnNames } from '../mapping';

interface UploadStepProps {
  imported: ImportFile | undefined;
  onUploaded: (imported: ImportFile) => void;
  /** Absent once the import is staged, when its mapping can no longer change. */
  onContinue?: () => void;
}

export function UploadStep({ imported, onUploaded, onContinue }: UploadStepProps) {
  const [progress, setProgress] = useState(0);
  const upload = useUploadImport(setProgress);

  function send(file: File) {
    setProgress(0);
    upload.mutate(file, { onSuccess: onUploaded });
  }

  return (
    <div className="stack">
      <Card title="Contact file">
        <FileDrop
          label="Contact file"
          accept=".csv,.tsv,.txt,.xlsx,.xls,.xlsb,.ods"
          hint="CSV, XLSX, XLS or ODS. The first row that looks like headers names the columns."
          disabled={upload.isPending}
          onFile={send}
        />
        {upload.isPending && (
          <ProgressBar
            value={Math.round(progress * 100)}
            label="Upload progress"
            valueText={`${Math.round(progress * 100)} % uploaded`}
            data-testid="upload-progress"
          />
        )}
        <ErrorNotice title="The file was not imported." error={upload.error} />
      </Card>
      {imported !== undefined && <DetectedFormat imported={imported} onContinue={onContinue} />}
    </div>
  );
}

function DetectedFormat({ imported, onContinue }: { imported: ImportFile; onContinue?: () => void }) {
  const columns = columnNames(imported);
  const rows = imported.sample_rows ?? [];
  return (
    <Card
      title={`Detected in ${imported.filename}`}
      focal
      actions={
        onContinue !== undefined && (
          <Button variant="primary" onClick={onContinue}>
            Continue to mapping
          </Button>
        )
      }
    >
      <dl className="details details--inline" data-testid="detected-format">
        <dt>Format</dt>
        <dd>{imported.format.toUpperCase()}</dd>
        {imported.encoding !== null && (
          <>
            <dt>Encoding</dt>
            <dd>{imported.encoding}</dd>
          </>
        )}
        {imported.delimiter !== null && (
          <>
            <dt>Delimiter</dt>
            <dd>
              <code>{imported.delimiter === '\t' ? 'tab' : imported.delimiter}</code>
            </dd>
          </>
        )}
        {imported.sheet !== null && (
          <>
            <dt>Sheet</dt>
            <dd>{imported.sheet}</dd>
          </>
        )}
        <dt>Header row</dt>
        <dd>{imported.header_row}</dd>
        <dt>Columns</dt>
        <dd>{columns.length}</dd>
        <dt>Uploaded</dt>
        <dd>{formatDateTime(imported.created_at)}</dd>
      </dl>
      <Table
        caption="Sample rows"
        hideCaption={false}
        columns={columns.map((column, index) => ({
          key: `${index}`,
          header: column,
          render: (row: string[]) => row[index] ?? '',
        }))}
        rows={rows.length > 0 ? rows : []}
        rowKey={(row) => `${rows.indexOf(row)}`}
        empty={<p className="muted">Columns: {columns.join(', ')}</p>}
      />
    </Card>
  );
}
