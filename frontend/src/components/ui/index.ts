export {
  Badge,
  BatchStatusBadge,
  ContactStatusBadge,
  RecipientStatusBadge,
  RECIPIENT_TONES,
  capitalize,
} from './Badge';
export type { Tone } from './Badge';
export { Button } from './Button';
export { Card } from './Card';
export { EmptyState } from './EmptyState';
export { ErrorNotice } from './ErrorNotice';
export { FileDrop } from './FileDrop';
export { SelectField, TextAreaField, TextField, Toggle } from './Input';
export type { SelectOption } from './Input';
export { ProgressBar } from './ProgressBar';
export { Spinner } from './Spinner';
export { StatCard } from './StatCard';
export { Table } from './Table';
export type { Column } from './Table';
export { ToastProvider, useToast } from './Toasts';
