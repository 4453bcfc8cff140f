import { useId, useState, type DragEvent, type ReactNode } from 'react';

interface FileDropProps {
  /** The accessible name of the file input. */
  label: string;
  accept?: string;
  hint?: ReactNode;
  disabled?: boolean;
  onFile: (file: File) => void;
}

/** Renders a drop zone that also opens the file picker when clicked or activated by keyboard. */
export function FileDrop({ label, accept, hint, disabled = false, onFile }: FileDropProps) {
  const id = useId();
  const [dragging, setDragging] = useState(false);

  function handleDrop(event: DragEvent<HTMLLabelElement>) {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files.item(0);
    if (file !== null && !disabled) {
      onFile(file);
    }
  }

  return (
    <label
      htmlFor={id}
      className={`file-drop${dragging ? ' file-drop--active' : ''}${disabled ? ' file-drop--disabled' : ''}`}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={handleDrop}
    >
      <input
        id={id}
        type="file"
        className="visually-hidden"
        accept={accept}
        disabled={disabled}
        aria-label={label}
        onChange={(event) => {
          const file = event.target.files?.item(0) ?? null;
          if (file !== null) {
            onFile(file);
          }
          event.target.value = '';
        }}
      />
      <span className="file-drop__title">Drop a file here, or click to choose one</span>
      {hint !== undefined && <span className="file-drop__hint">{hint}</span>}
    </label>
  );
}
