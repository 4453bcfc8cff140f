import { describe, expect, it } from 'vitest';

import { copyText } from './clipboard';

describe('copyText', () => {
  it('writes the text and returns true', async () => {
    const written: string[] = [];
    const clipboard = { writeText: async (text: string) => void written.push(text) };

    expect(await copyText('https://example.com/hook', clipboard)).toBe(true);
    expect(written).toEqual(['https://example.com/hook']);
  });

  it('returns false when the browser denies the write', async () => {
    const clipboard = {
      writeText: async () => {
        throw new DOMException('Write permission denied.', 'NotAllowedError');
      },
    };

    expect(await copyText('text', clipboard)).toBe(false);
  });

  it('returns false without a Clipboard API', async () => {
    expect(await copyText('text', undefined)).toBe(false);
  });
});
