// @vitest-environment node
import { describe, expect, it } from 'vitest';

import { ApiClient, buildUrl, type CookieReader } from './client';
import { ApiError, parseErrorResponse } from './errors';

interface RecordedRequest {
  method: string;
  path: string;
  headers: Headers;
  body: string | null;
}

type Handler = (request: RecordedRequest, server: FakeServer) => Response | Promise<Response>;

/** An in-memory API: routes by "METHOD /path", keeps a cookie jar, records every request. */
class FakeServer {
  readonly cookies = new Map<string, string>();
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Handler>();

  route(key: string, handler: Handler): this {
    this.routes.set(key, handler);
    return this;
  }

  readonly cookieReader: CookieReader = {
    get: (name) => this.cookies.get(name) ?? null,
  };

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input), 'http://127.0.0.1');
    const request: RecordedRequest = {
      method: init?.method ?? 'GET',
      path: url.pathname.replace('/api/v1', ''),
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : null,
    };
    this.requests.push(request);

    const handler = this.routes.get(`${request.method} ${request.path}`);
    if (handler === undefined) {
      return json(404, { code: 'not_found', message: `No route ${request.method} ${request.path}.` });
    }
    return handler(request, this);
  };

  count(key: string): number {
    return this.requests.filter((request) => `${request.method} ${request.path}` === key).length;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

function notAuthenticated(): Response {
  return json(401, { code: 'not_authenticated', message: 'Sign in to continue.', field: null });
}

// A session where only the refreshed access token is accepted, as after the 15 minute expiry.
function expiredSessionServer(refreshSucceeds: boolean): FakeServer {
  const server = new FakeServer();
  server.cookies.set('csrf_token', 'csrf-1');
  server.cookies.set('access_token', 'stale');

  server.route('POST /auth/refresh', (_request, self) => {
    if (!refreshSucceeds) {
      return notAuthenticated();
    }
    self.cookies.set('access_token', 'fresh');
    self.cookies.set('csrf_token', 'csrf-2');
    return json(200, { id: 'u1', email: 'ops@example.com', name: null, created_at: '2026-01-01T00:00:00Z' });
  });
  server.route('GET /batches', (_request, self) =>
    self.cookies.get('access_token') === 'fresh' ? json(200, { items: [], next_cursor: null }) : notAuthenticated(),
  );
  server.route('POST /templates', (_request, self) =>
    self.cookies.get('access_token') === 'fresh' ? json(201, { id: 't1', name: 'Welcome' }) : notAuthenticated(),
  );
  return server;
}

describe('ApiClient CSRF header', () => {
  it('adds the csrf_token cookie to a POST', async () => {
    const server = new FakeServer().route('POST /templates', () => json(201, { id: 't1' }));
    server.cookies.set('csrf_token', 'token-abc');
    const client = new ApiClient({ fetch: server.fetch, cookies: server.cookieReader });

    await client.post('/templates', { name: 'Welcome' });

    const sent = server.requests.at(-1);
    expect(sent?.headers.get('X-CSRF-Token')).toBe('token-abc');
    expect(sent?.headers.get('Content-Type')).toBe('application/json');
    expect(sent?.body).toBe('{"name":"Welcome"}');
  });

  it('fetches the cookie first when it is missing', async () => {
    const server = new FakeServer()
      .route('GET /auth/csrf', (_request, self) => {
        self.cookies.set('csrf_token', 'issued');
        return new Response(null, { status: 204 });
      })
      .route('PUT /settings', () => json(200, {}));
    const client = new ApiClient({ fetch: server.fetch, cookies: server.cookieReader });

    await client.put('/settings', { sender_name: 'News' });

    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /auth/csrf',
      'PUT /settings',
    ]);
    expect(server.requests[1]?.headers.get('X-CSRF-Token')).toBe('issued');
  });

  it('sends no CSRF header on a GET', async () => {
    const server = new FakeServer().route('GET /batches', () => json(200, { items: [], next_cursor: null }));
    server.cookies.set('csrf_token', 'token-abc');
    const client = new ApiClient({ fetch: server.fetch, cookies: server.cookieReader });

    await client.get('/batches');

    expect(server.requests[0]?.headers.has('X-CSRF-Token')).toBe(false);
  });
});

describe('ApiClient error parsing', () => {
  it('turns the error body into an ApiError', async () => {
    const server = new FakeServer().route('PUT /templates/t1/draft', () =>
      json(400, {
        code: 'validation_error',
        message: "Line 3: '{{#each}}' is not a merge field. Write fields as {{ name }}.",
        field: 'html',
        details: null,
      }),
    );
    server.cookies.set('csrf_token', 'token-abc');
    const client = new ApiClient({ fetch: server.fetch, cookies: server.cookieReader });

    const error = await client.put('/templates/t1/draft', { subject: '', html: '', text: '' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.code).toBe('validation_error');
    expect(apiError.field).toBe('html');
    expect(apiError.message).toContain('Line 3');
  });

  it('reads retry_after from a 429', () => {
    const error = parseErrorResponse(
      429,
      JSON.stringify({
        code: 'rate_limited',
        message: 'Too many attempts.',
        field: null,
        details: { retry_after: 840 },
      }),
    );

    expect(error.code).toBe('rate_limited');
    expect(error.retryAfter).toBe(840);
  });

  it('keeps the status of a body that is not JSON', () => {
    const error = parseErrorResponse(502, '<html>Bad Gateway</html>');

    expect(error.status).toBe(502);
    expect(error.code).toBe('server_error');
    expect(error.message).toContain('HTTP 502');
  });

  it('reports an unreachable server as status 0', async () => {
    const failingFetch: typeof fetch = () => Promise.reject(new TypeError('fetch failed'));
    const client = new ApiClient({ fetch: failingFetch, cookies: { get: () => null } });

    const error = await client.get('/auth/me').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(0);
    expect((error as ApiError).code).toBe('network_error');
  });
});

describe('ApiClient session refresh', () => {
  it('refreshes once and retries after a 401', async () => {
    const server = expiredSessionServer(true);
    let expired = 0;
    const client = new ApiClient({
      fetch: server.fetch,
      cookies: server.cookieReader,
      onSessionExpired: () => {
        expired += 1;
      },
    });

    const page = await client.get('/batches');

    expect(page).toEqual({ items: [], next_cursor: null });
    expect(server.count('GET /batches')).toBe(2);
    expect(server.count('POST /auth/refresh')).toBe(1);
    expect(expired).toBe(0);
  });

  it('retries a POST with the CSRF token set by the refresh', async () => {
    const server = expiredSessionServer(true);
    const client = new ApiClient({ fetch: server.fetch, cookies: server.cookieReader });

    await client.post('/templates', { name: 'Welcome' });

    const posts = server.requests.filter((request) => request.path === '/templates');
    expect(posts.map((request) => request.headers.get('X-CSRF-Token'))).toEqual(['csrf-1', 'csrf-2']);
    expect(server.requests.find((request) => request.path === '/auth/refresh')?.headers.get('X-CSRF-Token')).toBe(
      'csrf-1',
    );
  });

  it('shares one refresh between concurrent 401s', async () => {
    const server = expiredSessionServer(true);
    const client = new ApiClient({ fetch: server.fetch, cookies: server.cookieReader });

    await Promise.all([client.get('/batches'), client.get('/batches'), client.get('/batches')]);

    expect(server.count('POST /auth/refresh')).toBe(1);
    expect(server.count('GET /batches')).toBe(6);
  });

  it('calls the session-expired handler when the refresh fails', async () => {
    const server = expiredSessionServer(false);
    let expired = 0;
    const client = new ApiClient({
      fetch: server.fetch,
      cookies: server.cookieReader,
      onSessionExpired: () => {
        expired += 1;
      },
    });

    const error = await client.get('/batches').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(server.count('GET /batches')).toBe(1);
    expect(expired).toBe(1);
  });

  it('does not refresh after a failed login', async () => {
    const server = new FakeServer().route('POST /auth/login', () =>
      json(401, { code: 'not_authenticated', message: 'Wrong email or password.', field: 'password' }),
    );
    server.cookies.set('csrf_token', 'token-abc');
    let expired = 0;
    const client = new ApiClient({
      fetch: server.fetch,
      cookies: server.cookieReader,
      onSessionExpired: () => {
        expired += 1;
      },
    });

    const error = await client.post('/auth/login', { email: 'a@example.com', password: 'x' }).catch((e: unknown) => e);

    expect((error as ApiError).message).toBe('Wrong email or password.');
    expect(server.count('POST /auth/refresh')).toBe(0);
    expect(expired).toBe(0);
  });

  it('leaves anonymous requests alone on a 401', async () => {
    const server = new FakeServer().route('GET /public/unsubscribe/abc', () => notAuthenticated());
    let expired = 0;
    const client = new ApiClient({
      fetch: server.fetch,
      cookies: server.cookieReader,
      onSessionExpired: () => {
        expired += 1;
      },
    });

    await client.request('GET', '/public/unsubscribe/abc', { anonymous: true }).catch(() => undefined);

    expect(server.count('POST /auth/refresh')).toBe(0);
    expect(expired).toBe(0);
  });
});

describe('buildUrl', () => {
  it('drops empty query values', () => {
    expect(buildUrl('/contacts', { search: '', status: 'subscribed', cursor: null, limit: 50 })).toBe(
      '/api/v1/contacts?status=subscribed&limit=50',
    );
  });
});
