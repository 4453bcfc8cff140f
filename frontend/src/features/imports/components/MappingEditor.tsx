import type { ColumnMapping, TemplateField } from '../../../api/types';
import { SelectField, Table, type Column, type SelectOption } from '../../../components/ui';
import { EMAIL_TARGET } from '../mapping';

interface MappingEditorProps {
  columns: string[];
  fields: TemplateField[];
  mapping: ColumnMapping;
  onChange: (mapping: ColumnMapping) => void;
  /** Sample values per column, shown to help recognise it. */
  samples?: Record<string, string[]>;
  disabled?: boolean;
}

const LEAVE_OUT = '';

function targetOptions(fields: TemplateField[]): SelectOption[] {
  return [
    { value: LEAVE_OUT, label: 'Leave out' },
    { value: EMAIL_TARGET, label: 'email (recipient address)' },
    ...fields.map((field) => ({
      value: field.name,
      label: field.required ? `${field.name} (required)` : field.name,
    })),
  ];
}

/** Renders one select per file column: a merge field of the template, `email`, or leave it out. */
export function MappingEditor({
  columns,
  fields,
  mapping,
  onChange,
  samples = {},
  disabled = false,
}: MappingEditorProps) {
  const options = targetOptions(fields);

  function select(column: string, value: string) {
    onChange({ ...mapping, [column]: value === LEAVE_OUT ? null : value });
  }

  const tableColumns: Column<string>[] = [
    { key: 'column', header: 'Column in file', render: (column) => <strong>{column}</strong> },
    {
      key: 'samples',
      header: 'Sample values',
      render: (column) => <span className="muted mono">{(samples[column] ?? []).join(', ') || '—'}</span>,
    },
    {
      key: 'target',
      header: 'Maps to',
      render: (column) => (
        <SelectField
          label={`Map column ${column}`}
          hideLabel
          value={mapping[column] ?? LEAVE_OUT}
          options={options}
          disabled={disabled}
          onChange={(event) => select(column, event.target.value)}
        />
      ),
    },
  ];

  return <Table caption="Column mapping" columns={tableColumns} rows={columns} rowKey={(column) => column} />;
}
