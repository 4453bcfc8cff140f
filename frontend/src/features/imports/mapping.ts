import type { ColumnMapping, ImportFile, TemplateField } from '../../api/types';

/** The mapping target of the column that contains the addresses. */
export const EMAIL_TARGET = 'email';

/** Returns the column headers of an import, whichever shape the API sends them in. */
export function columnNames(imported: Pick<ImportFile, 'columns'>): string[] {
  return imported.columns.map((column) => (typeof column === 'string' ? column : column.name));
}

/**
 * Returns a mapping with one entry per column, taken from `mapping` where it names `email`
 * or one of `fieldNames`, and null (left out) otherwise.
 */
export function initialMapping(columns: string[], mapping: ColumnMapping | null, fieldNames: string[]): ColumnMapping {
  const targets = new Set([EMAIL_TARGET, ...fieldNames]);
  const result: ColumnMapping = {};
  for (const column of columns) {
    const target = mapping?.[column] ?? null;
    result[column] = target !== null && targets.has(target) ? target : null;
  }
  return result;
}

/** Lists what must be fixed before the mapping can validate, as messages for the operator. */
export function mappingProblems(mapping: ColumnMapping, fields: TemplateField[]): string[] {
  const problems: string[] = [];
  const columnsByTarget = new Map<string, string[]>();
  for (const [column, target] of Object.entries(mapping)) {
    if (target !== null) {
      columnsByTarget.set(target, [...(columnsByTarget.get(target) ?? []), column]);
    }
  }

  if (!columnsByTarget.has(EMAIL_TARGET)) {
    problems.push('Map one column to email: it holds the recipient addresses.');
  }
  for (const field of fields) {
    if (field.required && !columnsByTarget.has(field.name)) {
      problems.push(`Map a column to the required field ${field.name}, or make the field optional in the template.`);
    }
  }
  for (const [target, columns] of columnsByTarget) {
    if (columns.length > 1) {
      problems.push(`Columns ${columns.map((column) => `"${column}"`).join(' and ')} both map to ${target}; keep one.`);
    }
  }
  return problems;
}

const MAX_SAMPLES = 3;

/** Returns up to three sample values per column, from column objects or from sample rows. */
export function columnSamples(imported: Pick<ImportFile, 'columns' | 'sample_rows'>): Record<string, string[]> {
  const names = columnNames(imported);
  const samples: Record<string, string[]> = {};
  imported.columns.forEach((column, index) => {
    const name = names[index] ?? '';
    const fromColumn = typeof column === 'string' ? undefined : column.samples;
    const fromRows = (imported.sample_rows ?? []).map((row) => row[index] ?? '');
    samples[name] = (fromColumn ?? fromRows).filter((value) => value !== '').slice(0, MAX_SAMPLES);
  });
  return samples;
}
