import { useState, type FormEvent } from 'react';

import { ApiError } from '../../../api';
import type { Settings } from '../../../api/types';
import { Button, Card, ErrorNotice, TextField, useToast } from '../../../components/ui';
import { useUpdateSettings } from '../api';
import { type LimitErrors, type LimitField, LIMIT_SPECS, limitsChanged, limitValues, parseLimits } from '../limits';

const LIMIT_FIELDS: ReadonlySet<string> = new Set(LIMIT_SPECS.map((spec) => spec.field));

/** Tells whether the API rejected one of the limits, so its message shows at that input. */
function isLimitError(error: unknown): error is ApiError {
  return error instanceof ApiError && error.field !== null && LIMIT_FIELDS.has(error.field);
}

/** Renders the four sending limits and saves the changed ones through `PUT /settings`. */
export function LimitsCard({ settings }: { settings: Settings }) {
  const update = useUpdateSettings();
  const toast = useToast();
  const [values, setValues] = useState(() => limitValues(settings));
  const [localErrors, setLocalErrors] = useState<LimitErrors>({});
  const apiError = isLimitError(update.error) ? update.error : null;

  function errorFor(field: LimitField): string | null {
    return localErrors[field] ?? (apiError?.field === field ? apiError.message : null);
  }

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseLimits(values, settings);
    setLocalErrors(parsed.errors);
    if (Object.keys(parsed.errors).length > 0) {
      return;
    }

    if (Object.keys(parsed.update).length === 0) {
      setValues(limitValues(settings));
      return;
    }
    update.mutate(parsed.update, {
      onSuccess: (saved) => {
        setValues(limitValues(saved));
        toast.show('success', 'Sending limits saved.');
      },
    });
  }

  return (
    <Card title="Sending limits" data-testid="sending-limits">
      <form className="form" onSubmit={save} noValidate>
        <p className="muted">How fast messages go out through Brevo, shared by every batch of this account.</p>
        <div className="limits-grid">
          {LIMIT_SPECS.map((spec) => (
            <TextField
              key={spec.field}
              label={spec.label}
              type="number"
              inputMode="numeric"
              min={spec.min}
              max={spec.max}
              step={1}
              name={spec.field}
              value={values[spec.field]}
              onChange={(event) => setValues({ ...values, [spec.field]: event.target.value })}
              error={errorFor(spec.field)}
              hint={spec.hint}
            />
          ))}
        </div>
        {update.error !== null && apiError === null && <ErrorNotice error={update.error} />}
        <div>
          <Button
            type="submit"
            variant="primary"
            busy={update.isPending}
            disabled={!limitsChanged(values, settings) && Object.keys(localErrors).length === 0}
          >
            Save limits
          </Button>
        </div>
      </form>
    </Card>
  );
}
