import { errorMessage } from '../../api';

interface ErrorNoticeProps {
  error: unknown;
  /** Says what failed, before the API's message. */
  title?: string;
}

export function ErrorNotice({ error, title }: ErrorNoticeProps) {
  if (error === null || error === undefined) {
    return null;
  }
  return (
    <div className="notice notice--error" role="alert">
      {title !== undefined && <strong className="notice__title">{title}</strong>}
      <span>{errorMessage(error)}</span>
    </div>
  );
}
