interface SpinnerProps {
  label?: string;
  size?: 'sm' | 'md';
  /** Inside a button whose text already says what happens. */
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
