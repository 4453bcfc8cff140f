type ClipboardWriter = Pick<Clipboard, 'writeText'>;

/**
 * Writes text to the clipboard and returns whether that worked. Browsers offer the Clipboard
 * API only on HTTPS and localhost pages, and may deny it, so callers need a fallback such as
 * selecting the text for the operator to copy.
 */
export async function copyText(
  text: string,
  clipboard: ClipboardWriter | undefined = navigator.clipboard,
): Promise<boolean> {
  if (clipboard === undefined) {
    return false;
  }
  try {
    await clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
