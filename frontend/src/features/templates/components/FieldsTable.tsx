import type { TemplateField } from '../../../api/types';
import { EmptyState, Table, TextField, Toggle, type Column } from '../../../components/ui';

interface FieldsTableProps {
  fields: TemplateField[];
  onChange: (field: TemplateField) => void;
}

/** Renders the template's merge fields: required, or optional with a default, and a sample value. */
export function FieldsTable({ fields, onChange }: FieldsTableProps) {
  const columns: Column<TemplateField>[] = [
    { key: 'name', header: 'Field', render: (field) => <code className="mono">{field.name}</code> },
    {
      key: 'required',
      header: 'Required',
      render: (field) => (
        <Toggle
          label={<span className="visually-hidden">{`${field.name} is required`}</span>}
          checked={field.required}
          onChange={(required) => onChange({ ...field, required })}
        />
      ),
    },
    {
      key: 'default',
      header: 'Default',
      render: (field) => (
        <TextField
          label={`Default for ${field.name}`}
          hideLabel
          value={field.default ?? ''}
          disabled={field.required}
          placeholder={field.required ? 'Required in every row' : 'Used when a row is empty'}
          onChange={(event) => onChange({ ...field, default: event.target.value === '' ? null : event.target.value })}
        />
      ),
    },
    {
      key: 'sample',
      header: 'Sample',
      render: (field) => (
        <TextField
          label={`Sample for ${field.name}`}
          hideLabel
          value={field.sample ?? ''}
          placeholder="Shown in previews"
          onChange={(event) => onChange({ ...field, sample: event.target.value === '' ? null : event.target.value })}
        />
      ),
    },
  ];

  return (
    <Table
      caption="Merge fields"
      columns={columns}
      rows={fields}
      rowKey={(field) => field.name}
      empty={
        <EmptyState title="No merge fields yet.">
          Write <code>{'{{ first_name }}'}</code> in the subject, HTML or text to add one.{' '}
          <code>{'{{ unsubscribe_url }}'}</code> is filled in for you.
        </EmptyState>
      }
    />
  );
}
