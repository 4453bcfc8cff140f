import { html } from '@codemirror/lang-html';
import { EditorView } from '@codemirror/view';
import CodeMirror from '@uiw/react-codemirror';
import { useMemo } from 'react';

interface HtmlEditorProps {
  value: string;
  onChange: (value: string) => void;
  /** The accessible name of the editable area. */
  label: string;
  invalid?: boolean;
  describedBy?: string;
}

export function HtmlEditor({ value, onChange, label, invalid = false, describedBy }: HtmlEditorProps) {
  const extensions = useMemo(() => {
    const attributes: Record<string, string> = { 'aria-label': label, 'aria-multiline': 'true' };
    if (invalid) {
      attributes['aria-invalid'] = 'true';
    }
    if (describedBy !== undefined) {
      attributes['aria-describedby'] = describedBy;
    }
    return [html(), EditorView.lineWrapping, EditorView.contentAttributes.of(attributes)];
  }, [label, invalid, describedBy]);

  return (
    <div className={`code-editor${invalid ? ' code-editor--invalid' : ''}`}>
      <CodeMirror value={value} onChange={onChange} extensions={extensions} theme="dark" height="420px" />
    </div>
  );
}
