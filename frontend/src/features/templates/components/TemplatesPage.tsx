import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';

import { ApiError } from '../../../api';
import type { TemplateSummary } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  Spinner,
  Table,
  TextField,
  type Column,
} from '../../../components/ui';
import { formatDateTime } from '../../../lib/format';
import { useCreateTemplate, useTemplates } from '../api';

const COLUMNS: Column<TemplateSummary>[] = [
  { key: 'name', header: 'Name', render: (template) => <Link to={`/templates/${template.id}`}>{template.name}</Link> },
  {
    key: 'version',
    header: 'Published',
    render: (template) =>
      template.latest_version ? (
        <Badge tone="purple">Version {template.latest_version.number}</Badge>
      ) : (
        <Badge tone="gray">Draft only</Badge>
      ),
  },
  { key: 'updated', header: 'Updated', render: (template) => formatDateTime(template.updated_at) },
];

export function TemplatesPage() {
  const templates = useTemplates();
  return (
    <>
      <PageHeader
        title="Templates"
        description="HTML emails with {{ merge_fields }}; publishing freezes a numbered version."
      />
      <div className="bento bento--templates">
        <Card title="All templates" className="bento__wide">
          {templates.isPending && <Spinner label="Loading templates…" />}
          <ErrorNotice title="Cannot load templates." error={templates.error} />
          {templates.isSuccess && (
            <Table
              caption="Templates"
              columns={COLUMNS}
              rows={templates.data}
              rowKey={(template) => template.id}
              empty={<EmptyState title="No templates yet.">Create one to start writing an email.</EmptyState>}
            />
          )}
        </Card>
        <CreateTemplateCard />
      </div>
    </>
  );
}

function CreateTemplateCard() {
  const create = useCreateTemplate();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const nameError = create.error instanceof ApiError && create.error.field === 'name' ? create.error.message : null;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    create.mutate(name.trim(), { onSuccess: (template) => navigate(`/templates/${template.id}`) });
  }

  return (
    <Card title="New template">
      <form className="form" onSubmit={submit}>
        <TextField
          label="Template name"
          required
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={nameError}
          placeholder="March newsletter"
        />
        {create.error !== null && nameError === null && <ErrorNotice error={create.error} />}
        <div>
          <Button type="submit" variant="primary" busy={create.isPending} disabled={name.trim() === ''}>
            Create template
          </Button>
        </div>
      </form>
    </Card>
  );
}
