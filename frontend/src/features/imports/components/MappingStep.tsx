import { useState } from 'react';
import { Link } from 'react-router';

import type { ColumnMapping, ImportFile, MappingUpdate, TemplateVersion } from '../../../api/types';
import { Button, Card, ErrorNotice, SelectField, Spinner, TextField, Toggle } from '../../../components/ui';
import { useResetLiveImport } from '../../../live/hooks';
import { useTemplates, useTemplateVersions } from '../../templates/api';
import { useUpdateMapping, useValidateImport } from '../api';
import { columnNames, columnSamples, initialMapping, mappingProblems } from '../mapping';
import { MappingEditor } from './MappingEditor';
import { PresetsCard, SavePresetForm } from './Presets';

const ENCODINGS = ['utf-8', 'utf-8-sig', 'utf-16', 'cp1252', 'iso-8859-1', 'iso-8859-15', 'mac_roman'];

interface MappingStepProps {
  imported: ImportFile;
  onValidated: () => void;
}

interface FileOptions {
  sheet: string | null;
  headerRow: number;
  encoding: string | null;
}

function fileOptionsOf(imported: ImportFile): FileOptions {
  return { sheet: imported.sheet, headerRow: imported.header_row, encoding: imported.encoding };
}

export function MappingStep({ imported, onValidated }: MappingStepProps) {
  const templates = useTemplates();
  const published = (templates.data ?? []).filter((template) => template.latest_version !== null);

  // Until the user picks, guess the template from the version the import already has.
  const [pickedTemplateId, setPickedTemplateId] = useState<string | null>(null);
  const guessedTemplate =
    published.find((template) => template.latest_version?.id === imported.template_version_id) ??
    (published.length === 1 ? published[0] : undefined);
  const templateId = pickedTemplateId ?? guessedTemplate?.id ?? '';

  const versions = useTemplateVersions(templateId, templateId !== '');
  const [pickedVersionId, setPickedVersionId] = useState<string | null>(null);
  const versionList = versions.data ?? [];
  const version =
    versionList.find((candidate) => candidate.id === pickedVersionId) ??
    versionList.find((candidate) => candidate.id === imported.template_version_id) ??
    versionList[0];

  if (templates.isPending) {
    return <Spinner label="Loading templates…" />;
  }
  if (templates.error) {
    return <ErrorNotice title="Cannot load templates." error={templates.error} />;
  }
  if (published.length === 0) {
    return (
      <Card title="Template">
        <p>
          No template has a published version yet. <Link to="/templates">Publish a template</Link> first, then come back
          to this import.
        </p>
      </Card>
    );
  }

  return (
    <div className="stack">
      <Card title="Template">
        <div className="form-row">
          <SelectField
            label="Template"
            value={templateId}
            options={[
              ...(templateId === '' ? [{ value: '', label: 'Choose a template' }] : []),
              ...published.map((template) => ({ value: template.id, label: template.name })),
            ]}
            onChange={(event) => {
              setPickedTemplateId(event.target.value);
              setPickedVersionId(null);
            }}
          />
          <SelectField
            label="Published version"
            value={version?.id ?? ''}
            disabled={versionList.length === 0}
            options={
              versionList.length === 0
                ? [{ value: '', label: templateId === '' ? 'Choose a template first' : 'Loading versions…' }]
                : versionList.map((candidate) => ({
                    value: candidate.id,
                    label: `Version ${candidate.number}: ${candidate.subject}`,
                  }))
            }
            onChange={(event) => setPickedVersionId(event.target.value)}
          />
        </div>
        <ErrorNotice title="Cannot load the versions of this template." error={versions.error} />
      </Card>
      {version !== undefined ? (
        <ColumnsCard key={version.id} imported={imported} version={version} onValidated={onValidated} />
      ) : (
        templateId !== '' && versions.isPending && <Spinner label="Loading versions…" />
      )}
      {imported.mapping !== null && <SavePresetForm imported={imported} />}
      <PresetsCard />
    </div>
  );
}

interface ColumnsCardProps {
  imported: ImportFile;
  version: TemplateVersion;
  onValidated: () => void;
}

function ColumnsCard({ imported, version, onValidated }: ColumnsCardProps) {
  const updateMapping = useUpdateMapping(imported.id);
  const resetLive = useResetLiveImport();
  const validate = useValidateImport(imported.id, () => resetLive(imported.id));
  const [edits, setEdits] = useState<ColumnMapping | null>(null);
  const [keepUnmapped, setKeepUnmapped] = useState(imported.keep_unmapped);
  const [options, setOptions] = useState<FileOptions>(() => fileOptionsOf(imported));

  const columns = columnNames(imported);
  const fieldNames = version.fields.map((field) => field.name);
  const mapping = initialMapping(columns, edits ?? imported.mapping ?? imported.suggested_mapping, fieldNames);
  const problems = mappingProblems(mapping, version.fields);
  const optionsChanged = JSON.stringify(options) !== JSON.stringify(fileOptionsOf(imported));
  const busy = updateMapping.isPending || validate.isPending;

  function buildUpdate(): MappingUpdate {
    return {
      template_version_id: version.id,
      mapping,
      keep_unmapped: keepUnmapped,
      header_row: options.headerRow,
      ...(options.sheet !== null ? { sheet: options.sheet } : {}),
      ...(options.encoding !== null ? { encoding: options.encoding } : {}),
    };
  }

  // A new sheet, header row or encoding changes the columns, so the mapping starts over
  // from what the server suggests for them.
  function rereadFile() {
    updateMapping.mutate(buildUpdate(), {
      onSuccess: (updated) => {
        setEdits(null);
        setOptions(fileOptionsOf(updated));
      },
    });
  }

  async function saveAndValidate() {
    try {
      await updateMapping.mutateAsync(buildUpdate());
      await validate.mutateAsync();
      onValidated();
    } catch {
      // The mutations' errors are shown below.
    }
  }

  return (
    <Card title="Columns">
      <FileOptionsForm imported={imported} options={options} onChange={setOptions} />
      {optionsChanged && (
        <div className="notice notice--warning">
          <span>The file is read again with these options, and the mapping starts over.</span>
          <Button size="sm" onClick={rereadFile} busy={updateMapping.isPending}>
            Read the file again
          </Button>
        </div>
      )}
      <SuggestionSource imported={imported} />
      <MappingEditor
        columns={columns}
        fields={version.fields}
        mapping={mapping}
        samples={columnSamples(imported)}
        onChange={setEdits}
        disabled={busy}
      />
      <Toggle
        label="Keep other columns as contact attributes"
        checked={keepUnmapped}
        onChange={setKeepUnmapped}
        disabled={busy}
        hint="Columns mapped to no field are stored on each contact under their header when the batch is staged."
      />
      {problems.length > 0 && (
        <ul className="notice notice--warning problem-list" aria-label="Mapping problems">
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
      <ErrorNotice title="The mapping was not saved." error={updateMapping.error} />
      <ErrorNotice title="Validation failed." error={validate.error} />
      <div className="button-row">
        <Button
          variant="primary"
          busy={busy}
          disabled={problems.length > 0 || optionsChanged}
          onClick={() => void saveAndValidate()}
        >
          Validate rows
        </Button>
      </div>
    </Card>
  );
}

/** Says where the suggested mapping came from, while the operator has not confirmed one. */
export function SuggestionSource({ imported }: { imported: ImportFile }) {
  if (imported.mapping !== null) {
    return null;
  }
  if (imported.preset !== null) {
    return (
      <p className="notice notice--info" data-testid="mapping-source">
        Mapping from preset '{imported.preset.name}'
      </p>
    );
  }
  if (imported.reused_from !== null) {
    return (
      <p className="notice notice--info" data-testid="mapping-source">
        Mapping reused from your earlier upload of the same columns
      </p>
    );
  }
  return null;
}

interface FileOptionsFormProps {
  imported: ImportFile;
  options: FileOptions;
  onChange: (options: FileOptions) => void;
}

function FileOptionsForm({ imported, options, onChange }: FileOptionsFormProps) {
  const sheets = imported.sheets ?? [];
  const encodings =
    options.encoding !== null && !ENCODINGS.includes(options.encoding) ? [options.encoding, ...ENCODINGS] : ENCODINGS;

  return (
    <div className="form-row">
      {sheets.length > 1 && (
        <SelectField
          label="Sheet"
          value={options.sheet ?? sheets[0] ?? ''}
          options={sheets.map((sheet) => ({ value: sheet, label: sheet }))}
          onChange={(event) => onChange({ ...options, sheet: event.target.value })}
        />
      )}
      <TextField
        label="Header row"
        type="number"
        min={1}
        value={options.headerRow}
        onChange={(event) => onChange({ ...options, headerRow: Math.max(1, Number(event.target.value) || 1) })}
        hint="The row number that holds the column names."
      />
      {options.encoding !== null && (
        <SelectField
          label="Encoding"
          value={options.encoding}
          options={encodings.map((encoding) => ({ value: encoding, label: encoding }))}
          onChange={(event) => onChange({ ...options, encoding: event.target.value })}
        />
      )}
    </div>
  );
}
