interface SpinnerProps {
  label?: string;
  size?: 'sm' | 'md';
  /** Hides the spinner from screen readers, inside a button whose text already names the action. */
  decorative?: boolean;
}

export function Spinner({ label = 'Loading…', size = 'md', decorative = false }: SpinnerProps) {
  if (decorative) {
    return <span className={`spinner spinner--${size}`} aria-hidden="true" />;
  }
  return (
    <span className="spinner-wrap" role="status">
      <span className={`spinner spinner--${size}`} aria-hidden="true" />
      <span className="spinner__label">{label}</span>
    </span>
  );
}
