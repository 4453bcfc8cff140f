import type { TemplateField } from '../../api/types';

/** Filled in by the system for every recipient, so never a column to map. */
export const SYSTEM_FIELDS: ReadonlySet<string> = new Set(['unsubscribe_url']);

const MERGE_FIELD = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Lists the merge fields written `{{ name }}` in the given texts, in order of first use. */
export function detectFields(...texts: string[]): string[] {
  const names: string[] = [];
  for (const text of texts) {
    for (const match of text.matchAll(MERGE_FIELD)) {
      const name = match[1];
      if (name !== undefined && !SYSTEM_FIELDS.has(name) && !names.includes(name)) {
        names.push(name);
      }
    }
  }
  return names;
}

/**
 * Returns one field per detected name, keeping the settings already made for it. A field
 * seen for the first time starts required, as the API does.
 */
export function mergeFieldSettings(names: string[], existing: TemplateField[]): TemplateField[] {
  return names.map(
    (name) => existing.find((field) => field.name === name) ?? { name, required: true, default: null, sample: null },
  );
}
