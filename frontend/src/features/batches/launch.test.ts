import { afterEach, describe, expect, it, vi } from 'vitest';

import { launchBatch } from './api';

function batchResponse(): Response {
  return new Response(JSON.stringify({ id: 'b1', status: 'running' }), {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** A fetch that returns `answer()` for the launch route and 204 for anything else (the CSRF cookie). */
function fakeFetch(answer: () => Promise<Response>) {
  const launches: string[] = [];
  const fetchMock = vi.fn((input: RequestInfo | URL) => {
    const url = String(input);
    if (!url.endsWith('/launch')) {
      return Promise.resolve(new Response(null, { status: 204 }));
    }
    launches.push(url);
    return answer();
  });
  vi.stubGlobal('fetch', fetchMock);
  return launches;
}

describe('launchBatch', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('sends one request for a double click', async () => {
    let release: (response: Response) => void = () => undefined;
    const launches = fakeFetch(() => new Promise<Response>((resolve) => (release = resolve)));

    const first = launchBatch('b1');
    const second = launchBatch('b1');
    await vi.waitFor(() => expect(launches).toHaveLength(1));
    release(batchResponse());

    await expect(first).resolves.toMatchObject({ status: 'running' });
    await expect(second).resolves.toMatchObject({ status: 'running' });
    expect(launches).toHaveLength(1);
  });

  it('sends a new request once the first has finished', async () => {
    const launches = fakeFetch(() => Promise.resolve(batchResponse()));

    await launchBatch('b2');
    await launchBatch('b2');

    expect(launches).toHaveLength(2);
  });
});
