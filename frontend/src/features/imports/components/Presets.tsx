import { useState, type FormEvent } from 'react';

import { errorMessage } from '../../../api';
import type { ImportFile } from '../../../api/types';
import { Button, Card, ErrorNotice, TextField, useToast } from '../../../components/ui';
import { useDeletePreset, useMappingPresets, useSavePreset } from '../api';
import '../imports.css';

export const PRESET_NAME_MAX = 100;

/** Names a preset after the file it came from, without the extension. */
export function defaultPresetName(filename: string): string {
  return filename.replace(/\.[^.]+$/, '').slice(0, PRESET_NAME_MAX);
}

/** Saves the confirmed mapping of an import as a preset, suggested for files with the same headers. */
export function SavePresetForm({ imported }: { imported: ImportFile }) {
  const save = useSavePreset();
  const [name, setName] = useState(() => defaultPresetName(imported.filename));
  const trimmed = name.trim();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    save.mutate({ name: trimmed, import_id: imported.id });
  }

  return (
    <Card title="Save as preset">
      <form className="form" onSubmit={submit} aria-label="Save as preset">
        <p className="muted">
          A preset is suggested again whenever you upload a file with these column headers, in any order.
        </p>
        <div className="form-row">
          <TextField
            label="Preset name"
            value={name}
            maxLength={PRESET_NAME_MAX}
            onChange={(event) => {
              setName(event.target.value);
              save.reset();
            }}
          />
        </div>
        <ErrorNotice title="The preset was not saved." error={save.error} />
        {save.isSuccess && (
          <p className="notice notice--success" role="status">
            Saved as preset '{save.data.name}'.
          </p>
        )}
        <div className="button-row">
          <Button type="submit" busy={save.isPending} disabled={trimmed === '' || save.isSuccess}>
            Save as preset
          </Button>
        </div>
      </form>
    </Card>
  );
}

/** Lists the account's presets, each with a Delete button. Renders nothing when there are none. */
export function PresetsCard() {
  const presets = useMappingPresets();
  const remove = useDeletePreset();
  const toast = useToast();

  if (presets.error) {
    return <ErrorNotice title="Cannot load mapping presets." error={presets.error} />;
  }
  if (presets.data === undefined || presets.data.length === 0) {
    return null;
  }
  return (
    <Card title="Mapping presets">
      <ul className="preset-list" aria-label="Mapping presets">
        {presets.data.map((preset) => (
          <li key={preset.id}>
            <span>
              <strong>{preset.name}</strong>{' '}
              <span className="muted">
                {preset.columns.length} columns: {preset.columns.join(', ')}
              </span>
            </span>
            <Button
              size="sm"
              variant="ghost"
              aria-label={`Delete preset ${preset.name}`}
              busy={remove.isPending && remove.variables === preset.id}
              onClick={() =>
                remove.mutate(preset.id, {
                  onError: (error) => toast.show('error', `The preset was not deleted: ${errorMessage(error)}`),
                })
              }
            >
              Delete
            </Button>
          </li>
        ))}
      </ul>
    </Card>
  );
}
