import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';

import type { ColumnMapping, TemplateField } from '../../../api/types';
import { initialMapping } from '../mapping';
import { MappingEditor } from './MappingEditor';

const FIELDS: TemplateField[] = [
  { name: 'first_name', required: true, default: null, sample: 'Jane' },
  { name: 'company', required: false, default: 'your team', sample: null },
];

const COLUMNS = ['E-mail', 'Vorname', 'Firma', 'Telefon'];

const SUGGESTED: ColumnMapping = { 'E-mail': 'email', Vorname: 'first_name', Firma: null, Telefon: null };

// Holds the mapping in state like the import wizard does, and reports every change.
function Harness({ onChange }: { onChange: (mapping: ColumnMapping) => void }) {
  const [mapping, setMapping] = useState(() => initialMapping(COLUMNS, SUGGESTED, ['first_name', 'company']));
  return (
    <MappingEditor
      columns={COLUMNS}
      fields={FIELDS}
      mapping={mapping}
      samples={{ 'E-mail': ['jane@example.com'] }}
      onChange={(next) => {
        setMapping(next);
        onChange(next);
      }}
    />
  );
}

function selectFor(column: string): HTMLSelectElement {
  return screen.getByLabelText(`Map column ${column}`);
}

describe('MappingEditor', () => {
  it('renders one select per column prefilled from suggested_mapping', () => {
    render(<Harness onChange={() => undefined} />);

    expect(screen.getAllByRole('combobox')).toHaveLength(4);
    expect(selectFor('E-mail').value).toBe('email');
    expect(selectFor('Vorname').value).toBe('first_name');
    expect(selectFor('Firma').value).toBe('');
    expect(selectFor('Telefon').value).toBe('');
  });

  it('offers leave out, email and every template field', () => {
    render(<Harness onChange={() => undefined} />);

    const labels = Array.from(selectFor('Firma').options).map((option) => option.textContent);
    expect(labels).toEqual(['Leave out', 'email (recipient address)', 'first_name (required)', 'company']);
  });

  it('shows sample values next to the column', () => {
    render(<Harness onChange={() => undefined} />);

    expect(screen.getByText('jane@example.com')).toBeInTheDocument();
  });

  it('emits the mapping with the chosen field', async () => {
    const onChange = vi.fn<(mapping: ColumnMapping) => void>();
    render(<Harness onChange={onChange} />);

    await userEvent.selectOptions(selectFor('Firma'), 'company');

    expect(onChange).toHaveBeenLastCalledWith({
      'E-mail': 'email',
      Vorname: 'first_name',
      Firma: 'company',
      Telefon: null,
    });
  });

  it('emits null for a column left out', async () => {
    const onChange = vi.fn<(mapping: ColumnMapping) => void>();
    render(<Harness onChange={onChange} />);

    await userEvent.selectOptions(selectFor('Vorname'), 'Leave out');

    expect(onChange).toHaveBeenLastCalledWith({ 'E-mail': 'email', Vorname: null, Firma: null, Telefon: null });
  });
});
