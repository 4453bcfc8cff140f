import { describe, expect, it } from 'vitest';

import type { TemplateField } from '../../api/types';
import { columnNames, initialMapping, mappingProblems } from './mapping';

const FIELDS: TemplateField[] = [
  { name: 'first_name', required: true, default: null, sample: null },
  { name: 'company', required: false, default: 'your team', sample: null },
];

describe('initialMapping', () => {
  it('keeps known targets and leaves out the rest', () => {
    const mapping = initialMapping(
      ['E-mail', 'First name', 'Phone', 'Firma'],
      { 'E-mail': 'email', 'First name': 'first_name', Phone: 'phone', Firma: null },
      ['first_name', 'company'],
    );

    expect(mapping).toEqual({ 'E-mail': 'email', 'First name': 'first_name', Phone: null, Firma: null });
  });

  it('adds columns the mapping does not mention', () => {
    expect(initialMapping(['Email', 'City'], { Email: 'email' }, [])).toEqual({ Email: 'email', City: null });
  });
});

describe('mappingProblems', () => {
  it('asks for an email column and the required fields', () => {
    expect(mappingProblems({ Name: null }, FIELDS)).toEqual([
      'Map one column to email: it holds the recipient addresses.',
      'Map a column to the required field first_name, or make the field optional in the template.',
    ]);
  });

  it('rejects two columns mapped to one target', () => {
    const problems = mappingProblems({ Email: 'email', 'Work email': 'email', Name: 'first_name' }, FIELDS);

    expect(problems).toEqual(['Columns "Email" and "Work email" both map to email; keep one.']);
  });

  it('accepts a complete mapping with an optional field left out', () => {
    expect(mappingProblems({ Email: 'email', Name: 'first_name', City: null }, FIELDS)).toEqual([]);
  });
});

describe('columnNames', () => {
  it('reads plain headers and column objects', () => {
    expect(columnNames({ columns: ['Email', { name: 'Name', samples: ['Jane'] }] })).toEqual(['Email', 'Name']);
  });
});
