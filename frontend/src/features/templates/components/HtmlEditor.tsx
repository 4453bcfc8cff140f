import { html } from '@codemirror/lang-html';
import { Prec } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import CodeMirror from '@uiw/react-codemirror';
import { useMemo } from 'react';

// Keeps the dark theme's syntax colours on the dashboard's input background. It needs the
// highest precedence to win over the background of the `theme="dark"` prop.
const glassTheme = Prec.highest(
  EditorView.theme(
    {
      '&': { backgroundColor: 'rgba(3, 7, 18, 0.6)' },
      '.cm-gutters': { backgroundColor: 'rgba(17, 24, 39, 0.6)', borderRight: '1px solid rgba(255, 255, 255, 0.08)' },
      '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'rgba(255, 255, 255, 0.04)' },
    },
    { dark: true },
  ),
);

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
    return [html(), glassTheme, EditorView.lineWrapping, EditorView.contentAttributes.of(attributes)];
  }, [label, invalid, describedBy]);

  return (
    <div className={`code-editor${invalid ? ' code-editor--invalid' : ''}`}>
      <CodeMirror value={value} onChange={onChange} extensions={extensions} theme="dark" height="420px" />
    </div>
  );
}
