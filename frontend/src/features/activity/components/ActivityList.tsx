import { Link } from 'react-router';

import type { ActivityEntry } from '../../../api/types';
import { Badge, type Tone } from '../../../components/ui';
import { formatDateTime, formatRelative } from '../../../lib/format';
import { activitySubjectPath } from '../api';

const KIND_LABELS: Record<string, [string, Tone]> = {
  signed_in: ['Sign-in', 'gray'],
  template_published: ['Template', 'purple'],
  import_validated: ['Import', 'blue'],
  batch_staged: ['Batch', 'gray'],
  batch_launched: ['Batch', 'purple'],
  batch_completed: ['Batch', 'green'],
  contact_unsubscribed: ['Contact', 'yellow'],
  contact_resubscribed: ['Contact', 'green'],
  suppressions_imported: ['Suppression', 'yellow'],
};

export function ActivityList({ entries }: { entries: ActivityEntry[] }) {
  return (
    <ol className="activity-list">
      {entries.map((entry) => {
        const [label, tone] = KIND_LABELS[entry.kind] ?? ['Event', 'gray'];
        const path = activitySubjectPath(entry);
        return (
          <li key={entry.id} className="activity-list__item">
            <Badge tone={tone}>{label}</Badge>
            <span className="activity-list__message">
              {path !== null ? <Link to={path}>{entry.message}</Link> : entry.message}
            </span>
            <time className="activity-list__time" dateTime={entry.created_at} title={formatDateTime(entry.created_at)}>
              {formatRelative(entry.created_at)}
            </time>
          </li>
        );
      })}
    </ol>
  );
}
