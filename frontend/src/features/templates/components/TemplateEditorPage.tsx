import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';

import { ApiError, errorMessage } from '../../../api';
import type { Template, TemplateField, TemplateVersion } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import { Badge, Button, Card, ErrorNotice, Spinner, TextAreaField, TextField, useToast } from '../../../components/ui';
import { formatDateTime } from '../../../lib/format';
import { usePublishTemplate, useSaveDraft, useTemplate, useTemplateVersions } from '../api';
import { detectFields, mergeFieldSettings } from '../fields';
import { FieldsTable } from './FieldsTable';
import { HtmlEditor } from './HtmlEditor';
import { PreviewPanel, type PreviewSource } from './PreviewPanel';
import { VersionsList } from './VersionsList';

export function TemplateEditorPage() {
  const { id = '' } = useParams();
  const template = useTemplate(id);
  const versions = useTemplateVersions(id);

  if (template.isPending || versions.isPending) {
    return <Spinner label="Loading template…" />;
  }
  if (template.error || versions.error) {
    return <ErrorNotice title="Cannot load this template." error={template.error ?? versions.error} />;
  }
  return <TemplateEditor key={template.data.id} template={template.data} versions={versions.data} />;
}

interface Content {
  subject: string;
  html: string;
  text: string;
  fields: TemplateField[];
}

// With no draft, editing starts from the newest published version.
function initialContent(template: Template, versions: TemplateVersion[]): Content {
  const source = template.draft ?? versions[0];
  if (source === undefined) {
    return { subject: '', html: '', text: '', fields: [] };
  }
  return { subject: source.subject, html: source.html, text: source.text, fields: source.fields };
}

function serialize(content: Content): string {
  return JSON.stringify(content);
}

const EDITABLE_FIELDS = ['subject', 'html', 'text', 'fields'] as const;

function TemplateEditor({ template, versions }: { template: Template; versions: TemplateVersion[] }) {
  const toast = useToast();
  const saveDraft = useSaveDraft(template.id);
  const publish = usePublishTemplate(template.id);

  const initial = useMemo(() => initialContent(template, versions), [template, versions]);
  const [subject, setSubject] = useState(initial.subject);
  const [html, setHtml] = useState(initial.html);
  const [text, setText] = useState(initial.text);
  const [fieldSettings, setFieldSettings] = useState<TemplateField[]>(initial.fields);
  // Content taken from a published version counts as saved: there is nothing new to save yet.
  const [savedSnapshot, setSavedSnapshot] = useState(() => serialize(initial));
  const [previewSource, setPreviewSource] = useState<PreviewSource>('draft');
  const [renderToken, setRenderToken] = useState(0);

  const fields = useMemo(
    () => mergeFieldSettings(detectFields(subject, html, text), fieldSettings),
    [subject, html, text, fieldSettings],
  );
  const content: Content = { subject, html, text, fields };
  const dirty = serialize(content) !== savedSnapshot;

  const saveError = saveDraft.error instanceof ApiError ? saveDraft.error : null;
  const errorFor = (field: (typeof EDITABLE_FIELDS)[number]) => (saveError?.field === field ? saveError.message : null);
  const generalSaveError =
    saveDraft.error !== null && !EDITABLE_FIELDS.some((field) => saveError?.field === field) ? saveDraft.error : null;

  function updateField(changed: TemplateField) {
    setFieldSettings((current) => [...current.filter((field) => field.name !== changed.name), changed]);
  }

  async function save(): Promise<boolean> {
    try {
      const saved = await saveDraft.mutateAsync(content);
      const savedFields = saved.draft?.fields ?? fields;
      setFieldSettings(savedFields);
      setSavedSnapshot(
        serialize({ ...content, fields: mergeFieldSettings(detectFields(subject, html, text), savedFields) }),
      );
      setRenderToken((token) => token + 1);
      return true;
    } catch {
      return false;
    }
  }

  async function saveAndToast() {
    if (await save()) {
      toast.show('success', 'Draft saved.');
    }
  }

  async function publishDraft() {
    if (dirty && !(await save())) {
      return;
    }
    const previous = (publish.data ?? template.latest_version)?.id;
    publish.mutate(undefined, {
      // Publishing an unchanged draft returns the latest version instead of a copy.
      onSuccess: (version) =>
        toast.show(
          'success',
          version.id === previous
            ? `Nothing changed since version ${version.number}; no new version was published.`
            : `Published version ${version.number}.`,
        ),
      onError: (error) => toast.show('error', `Publishing failed: ${errorMessage(error)}`),
    });
  }

  const latest = publish.data ?? template.latest_version;

  return (
    <>
      <PageHeader
        title={template.name}
        description={
          <>
            <Link to="/templates">All templates</Link>
            {template.draft && <> · Draft saved {formatDateTime(template.draft.updated_at)}</>}
          </>
        }
      >
        {latest ? (
          <Badge tone="purple" data-testid="published-version">
            Published version {latest.number}
          </Badge>
        ) : (
          <Badge tone="gray">Not published</Badge>
        )}
        {dirty && <Badge tone="yellow">Unsaved changes</Badge>}
        <Button onClick={() => void saveAndToast()} busy={saveDraft.isPending} disabled={!dirty}>
          Save draft
        </Button>
        <Button variant="primary" onClick={() => void publishDraft()} busy={publish.isPending}>
          Publish
        </Button>
      </PageHeader>

      <div className="editor-layout">
        <div className="stack">
          <Card title="Content">
            <div className="form">
              <ErrorNotice title="The draft was not saved." error={generalSaveError} />
              <TextField
                label="Subject"
                value={subject}
                onChange={(event) => setSubject(event.target.value)}
                error={errorFor('subject')}
              />
              <div className="field">
                <span className="field__label">HTML</span>
                <HtmlEditor
                  value={html}
                  onChange={setHtml}
                  label="HTML"
                  invalid={errorFor('html') !== null}
                  describedBy={errorFor('html') !== null ? 'html-error' : undefined}
                />
                {errorFor('html') !== null && (
                  <p className="field__error" id="html-error" role="alert">
                    {errorFor('html')}
                  </p>
                )}
              </div>
              <TextAreaField
                label="Text part"
                rows={8}
                value={text}
                onChange={(event) => setText(event.target.value)}
                error={errorFor('text')}
                hint="Shown by mail clients that do not display HTML."
              />
            </div>
          </Card>
          <Card title="Merge fields">
            <FieldsTable fields={fields} onChange={updateField} />
            {errorFor('fields') !== null && (
              <p className="field__error" role="alert">
                {errorFor('fields')}
              </p>
            )}
          </Card>
          <Card title="Versions">
            <VersionsList versions={versions} onPreview={setPreviewSource} />
          </Card>
        </div>
        <PreviewPanel
          templateId={template.id}
          draftFields={fields}
          versions={versions}
          source={previewSource}
          onSourceChange={setPreviewSource}
          hasDraft={template.draft !== null}
          renderToken={renderToken}
        />
      </div>
    </>
  );
}
