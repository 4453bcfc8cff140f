import type { IncomingMessage } from 'node:http';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The API server that `npm run dev` proxies to; override with BACKEND_URL.
const BACKEND = process.env.BACKEND_URL ?? 'http://127.0.0.1:8000';

// The backend serves GET /unsubscribe/{token} as the dashboard page and takes the RFC 8058
// one-click POST on the same path. In development the page comes from Vite and the POST
// goes to the backend.
function serveDashboardPage(request: IncomingMessage): string | undefined {
  const wantsHtml = request.headers.accept?.includes('text/html') ?? false;
  return request.method === 'GET' && wantsHtml ? '/index.html' : undefined;
}

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      // The more specific WebSocket entry must come before '/api'.
      '/api/v1/live': { target: BACKEND, ws: true },
      '/api': { target: BACKEND },
      '/unsubscribe': { target: BACKEND, bypass: serveDashboardPage },
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: false,
    // The template editor chunk is CodeMirror with its HTML, CSS and JavaScript modes
    // (about 580 kB, 200 kB gzipped) and loads only on the editor page.
    chunkSizeWarningLimit: 650,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    setupFiles: ['src/test/setup.ts'],
  },
});
