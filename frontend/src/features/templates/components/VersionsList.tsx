import type { TemplateVersion } from '../../../api/types';
import { Button, EmptyState, Table, type Column } from '../../../components/ui';
import { formatDateTime } from '../../../lib/format';

interface VersionsListProps {
  versions: TemplateVersion[];
  onPreview: (versionId: string) => void;
}

export function VersionsList({ versions, onPreview }: VersionsListProps) {
  const columns: Column<TemplateVersion>[] = [
    { key: 'number', header: 'Version', numeric: true, render: (version) => version.number },
    { key: 'subject', header: 'Subject', render: (version) => version.subject },
    {
      key: 'fields',
      header: 'Fields',
      render: (version) => version.fields.map((field) => field.name).join(', ') || '—',
    },
    { key: 'published', header: 'Published', render: (version) => formatDateTime(version.published_at) },
    {
      key: 'preview',
      header: <span className="visually-hidden">Actions</span>,
      render: (version) => (
        <Button size="sm" variant="ghost" onClick={() => onPreview(version.id)}>
          Preview version {version.number}
        </Button>
      ),
    },
  ];
  return (
    <Table
      caption="Published versions"
      columns={columns}
      rows={versions}
      rowKey={(version) => version.id}
      empty={<EmptyState title="Nothing published yet.">Publish the draft to use it in an import.</EmptyState>}
    />
  );
}
