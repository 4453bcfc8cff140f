import { useEffect, useState } from 'react';

import type { TemplateField, TemplateVersion } from '../../../api/types';
import { Button, Card, ErrorNotice, SelectField, TextField } from '../../../components/ui';
import { usePreview } from '../api';

/** `draft`, or the id of a published version. */
export type PreviewSource = string;

interface PreviewPanelProps {
  templateId: string;
  draftFields: TemplateField[];
  versions: TemplateVersion[];
  source: PreviewSource;
  onSourceChange: (source: PreviewSource) => void;
  /** False until the template has a saved draft. */
  hasDraft: boolean;
  /** Changes after each save, to render the saved draft again. */
  renderToken: number;
}

function nonEmpty(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
}

export function PreviewPanel({
  templateId,
  draftFields,
  versions,
  source,
  onSourceChange,
  hasDraft,
  renderToken,
}: PreviewPanelProps) {
  const preview = usePreview(templateId);
  const [values, setValues] = useState<Record<string, string>>({});
  const [part, setPart] = useState<'html' | 'text'>('html');

  const version = versions.find((candidate) => candidate.id === source);
  const fields = version?.fields ?? draftFields;
  const sourceOptions = [
    { value: 'draft', label: 'Saved draft' },
    ...versions.map((candidate) => ({ value: candidate.id, label: `Version ${candidate.number}` })),
  ];

  const renderable = source !== 'draft' || hasDraft;
  const { mutate } = preview;
  function render() {
    mutate({ ...(source === 'draft' ? {} : { version_id: source }), values: nonEmpty(values) });
  }

  // Renders on open, after each save and when the source changes; value edits wait for the button.
  useEffect(() => {
    if (renderable) {
      mutate({ ...(source === 'draft' ? {} : { version_id: source }) });
    }
  }, [mutate, source, renderable, renderToken]);

  return (
    <Card title="Preview" className="preview-card">
      <SelectField
        label="Render"
        value={source}
        options={sourceOptions}
        onChange={(event) => onSourceChange(event.target.value)}
      />
      {fields.length > 0 && (
        <fieldset className="preview-values">
          <legend>Sample values</legend>
          {fields.map((field) => (
            <TextField
              key={field.name}
              label={field.name}
              value={values[field.name] ?? ''}
              placeholder={field.sample ?? field.default ?? `[${field.name}]`}
              onChange={(event) => setValues((current) => ({ ...current, [field.name]: event.target.value }))}
            />
          ))}
        </fieldset>
      )}
      <div className="button-row">
        <Button onClick={render} busy={preview.isPending} disabled={!renderable}>
          Render preview
        </Button>
        <div className="segmented" role="group" aria-label="Message part">
          <button type="button" aria-pressed={part === 'html'} onClick={() => setPart('html')}>
            HTML
          </button>
          <button type="button" aria-pressed={part === 'text'} onClick={() => setPart('text')}>
            Text
          </button>
        </div>
      </div>
      {!renderable && <p className="muted">Save the draft to preview it.</p>}
      <ErrorNotice title="The preview failed." error={preview.error} />
      {preview.data !== undefined && (
        <div className="preview">
          <p className="preview__subject">
            <span className="muted">Subject:</span> {preview.data.subject}
          </p>
          {part === 'html' ? (
            <iframe className="preview__frame" title="Email preview" sandbox="" srcDoc={preview.data.html} />
          ) : (
            <pre className="preview__text" aria-label="Text part preview">
              {preview.data.text}
            </pre>
          )}
        </div>
      )}
    </Card>
  );
}
