import { ApiError, parseErrorResponse } from './errors';

export const API_PREFIX = '/api/v1';
export const CSRF_COOKIE = 'csrf_token';
export const CSRF_HEADER = 'X-CSRF-Token';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RawRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: string | FormData | null;
  signal?: AbortSignal;
}

export interface RawResponse {
  status: number;
  text: string;
}

/** Sends one HTTP request. The client builds on fetch, and uploads use XMLHttpRequest for progress. */
export type Transport = (request: RawRequest) => Promise<RawResponse>;

export interface CookieReader {
  get(name: string): string | null;
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as multipart/form-data. */
  form?: FormData;
  signal?: AbortSignal;
  /** For public pages: a 401 neither refreshes the session nor sends the user to sign in. */
  anonymous?: boolean;
  onUploadProgress?: (fraction: number) => void;
}

export interface ApiClientOptions {
  fetch?: typeof fetch;
  cookies?: CookieReader;
  /** Called when a request gets 401 and refreshing the session failed. */
  onSessionExpired?: () => void;
}

const MUTATING_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// A 401 from these means wrong credentials or a spent refresh token, so refreshing cannot help.
const NO_REFRESH_PATHS: ReadonlySet<string> = new Set(['/auth/login', '/auth/signup', '/auth/refresh', '/auth/csrf']);

export const documentCookies: CookieReader = {
  get(name) {
    for (const part of document.cookie.split(';')) {
      const [key, ...rest] = part.trim().split('=');
      // The raw value, because the server compares the header with the cookie byte for byte.
      if (key === name) {
        return rest.join('=');
      }
    }
    return null;
  },
};

function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

function networkError(): ApiError {
  return new ApiError(
    0,
    'network_error',
    'Cannot reach the server. Check your connection and that the server is running, then try again.',
  );
}

export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return async (request) => {
    let response: Response;
    try {
      response = await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        credentials: 'same-origin',
        signal: request.signal,
      });
    } catch (error) {
      throw isAbortError(error) ? error : networkError();
    }
    return { status: response.status, text: await response.text() };
  };
}

export function xhrTransport(onProgress?: (fraction: number) => void): Transport {
  return (request) =>
    new Promise<RawResponse>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(request.method, request.url);
      xhr.withCredentials = true;
      for (const [name, value] of Object.entries(request.headers)) {
        xhr.setRequestHeader(name, value);
      }

      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable && event.total > 0) {
          onProgress?.(event.loaded / event.total);
        }
      };
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
      xhr.onerror = () => reject(networkError());
      xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
      request.signal?.addEventListener('abort', () => xhr.abort());

      xhr.send(request.body);
    });
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== '') {
      params.set(key, String(value));
    }
  }
  const search = params.toString();
  return `${API_PREFIX}${path}${search ? `?${search}` : ''}`;
}

function parseBody<T>(text: string): T {
  if (text === '') {
    return undefined as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

/**
 * The one way the dashboard talks to the API. It sends the session cookies, adds the
 * double-submit CSRF header to mutating requests, turns error bodies into ApiError, and on a
 * 401 refreshes the session once and retries.
 */
export class ApiClient {
  private readonly fetchTransport: Transport;
  private readonly cookies: CookieReader;
  private onSessionExpired: () => void;
  private refreshing: Promise<boolean> | null = null;
  // Counts successful refreshes, so a request that was sent with an old access token and
  // fails after another request refreshed the session retries without refreshing again.
  private sessionGeneration = 0;

  constructor(options: ApiClientOptions = {}) {
    const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.fetchTransport = fetchTransport(fetchImpl);
    this.cookies = options.cookies ?? documentCookies;
    this.onSessionExpired = options.onSessionExpired ?? (() => undefined);
  }

  setSessionExpiredHandler(handler: () => void): void {
    this.onSessionExpired = handler;
  }

  get<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  post<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>('POST', path, { json });
  }

  put<T>(path: string, json: unknown): Promise<T> {
    return this.request<T>('PUT', path, { json });
  }

  patch<T>(path: string, json: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { json });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path, {});
  }

  /** Posts multipart form data, reporting upload progress from 0 to 1. */
  upload<T>(path: string, form: FormData, onUploadProgress?: (fraction: number) => void): Promise<T> {
    return this.request<T>('POST', path, { form, onUploadProgress });
  }

  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const generation = this.sessionGeneration;
    let response = await this.send(method, path, options);

    if (response.status === 401 && !options.anonymous && !NO_REFRESH_PATHS.has(path)) {
      const renewed = generation !== this.sessionGeneration || (await this.refreshSession());
      if (renewed) {
        response = await this.send(method, path, options);
      }
      if (!renewed || response.status === 401) {
        this.onSessionExpired();
      }
    }

    if (response.status >= 400) {
      throw parseErrorResponse(response.status, response.text);
    }
    return parseBody<T>(response.text);
  }

  /** Trades the refresh cookie for new cookies. Concurrent callers share one refresh. */
  refreshSession(): Promise<boolean> {
    if (this.refreshing === null) {
      this.refreshing = this.send('POST', '/auth/refresh', {})
        .then((response) => {
          const ok = response.status >= 200 && response.status < 300;
          if (ok) {
            this.sessionGeneration += 1;
          }
          return ok;
        })
        .catch(() => false)
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  private async send(method: HttpMethod, path: string, options: RequestOptions): Promise<RawResponse> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: string | FormData | null = null;

    if (options.form !== undefined) {
      body = options.form;
    } else if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.json);
    }

    if (MUTATING_METHODS.has(method)) {
      const token = await this.csrfToken();
      if (token !== null) {
        headers[CSRF_HEADER] = token;
      }
    }

    const transport = options.form !== undefined ? xhrTransport(options.onUploadProgress) : this.fetchTransport;
    return transport({
      method,
      url: buildUrl(path, options.query),
      headers,
      body,
      signal: options.signal,
    });
  }

  // GET /auth/csrf sets the cookie when it is missing. If it still is, the request goes
  // without the header and the API's 403 explains why.
  private async csrfToken(): Promise<string | null> {
    const token = this.cookies.get(CSRF_COOKIE);
    if (token !== null) {
      return token;
    }
    await this.fetchTransport({ method: 'GET', url: buildUrl('/auth/csrf'), headers: {}, body: null });
    return this.cookies.get(CSRF_COOKIE);
  }
}
