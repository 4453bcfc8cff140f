import {
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';

interface FieldShellProps {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  children: ReactNode;
  className?: string;
  /** Keeps the label for screen readers only, as in table cells whose column header says it. */
  hideLabel?: boolean;
}

function FieldShell({ id, label, hint, error, children, className, hideLabel = false }: FieldShellProps) {
  return (
    <div className={`field ${className ?? ''}`}>
      <label className={hideLabel ? 'visually-hidden' : 'field__label'} htmlFor={id}>
        {label}
      </label>
      {children}
      {hint !== undefined && error == null && (
        <p className="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error != null && (
        <p className="field__error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function describedBy(id: string, hint: ReactNode | undefined, error: string | null | undefined): string | undefined {
  if (error != null) {
    return `${id}-error`;
  }
  return hint !== undefined ? `${id}-hint` : undefined;
}

interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> {
  /** Reaches the input element (React 19 passes `ref` as a plain prop). */
  ref?: Ref<HTMLInputElement>;
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  fieldClassName?: string;
  hideLabel?: boolean;
}

export function TextField({ label, hint, error, fieldClassName, hideLabel, className, ...rest }: TextFieldProps) {
  const id = useId();
  return (
    <FieldShell id={id} label={label} hint={hint} error={error} className={fieldClassName} hideLabel={hideLabel}>
      <input
        id={id}
        className={`input ${className ?? ''}`}
        aria-invalid={error != null || undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...rest}
      />
    </FieldShell>
  );
}

interface TextAreaFieldProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'> {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  fieldClassName?: string;
  hideLabel?: boolean;
}

export function TextAreaField({
  label,
  hint,
  error,
  fieldClassName,
  hideLabel,
  className,
  ...rest
}: TextAreaFieldProps) {
  const id = useId();
  return (
    <FieldShell id={id} label={label} hint={hint} error={error} className={fieldClassName} hideLabel={hideLabel}>
      <textarea
        id={id}
        className={`input textarea ${className ?? ''}`}
        aria-invalid={error != null || undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...rest}
      />
    </FieldShell>
  );
}

export interface SelectOption {
  value: string;
  label: string;
}

interface SelectFieldProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'> {
  label: ReactNode;
  options: SelectOption[];
  hint?: ReactNode;
  error?: string | null;
  fieldClassName?: string;
  hideLabel?: boolean;
}

export function SelectField({
  label,
  options,
  hint,
  error,
  fieldClassName,
  hideLabel,
  className,
  ...rest
}: SelectFieldProps) {
  const id = useId();
  return (
    <FieldShell id={id} label={label} hint={hint} error={error} className={fieldClassName} hideLabel={hideLabel}>
      <select
        id={id}
        className={`input select ${className ?? ''}`}
        aria-invalid={error != null || undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...rest}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

interface ToggleProps {
  label: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: ReactNode;
  disabled?: boolean;
}

/** Renders a checkbox drawn as a switch. */
export function Toggle({ label, checked, onChange, hint, disabled }: ToggleProps) {
  const id = useId();
  return (
    <div className="toggle-field">
      <label className="toggle" htmlFor={id}>
        <input
          id={id}
          type="checkbox"
          role="switch"
          className="toggle__input"
          checked={checked}
          disabled={disabled}
          aria-describedby={hint !== undefined ? `${id}-hint` : undefined}
          onChange={(event) => onChange(event.target.checked)}
        />
        <span className="toggle__track" aria-hidden="true">
          <span className="toggle__thumb" />
        </span>
        <span className="toggle__label">{label}</span>
      </label>
      {hint !== undefined && (
        <p className="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}
