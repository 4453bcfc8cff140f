import '@fontsource/inter/400.css';
import '@fontsource/inter/500.css';
import '@fontsource/inter/600.css';
import '@fontsource/inter/700.css';
import './styles/app.css';

import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';

import { api } from './api';
import { createQueryClient } from './api/queryClient';
import { ToastProvider } from './components/ui';
import { createRouter } from './router';

const PUBLIC_PATHS = ['/login', '/signup', '/unsubscribe/'];

const queryClient = createQueryClient();
const router = createRouter();

// A 401 that a refresh cannot fix ends the session: drop cached data and ask to sign in
// again, then come back to the same page.
api.setSessionExpiredHandler(() => {
  const { pathname, search } = window.location;
  if (PUBLIC_PATHS.some((path) => pathname.startsWith(path))) {
    return;
  }
  queryClient.clear();
  void router.navigate(`/login?next=${encodeURIComponent(pathname + search)}`, { replace: true });
});

const root = document.getElementById('root');
if (root === null) {
  throw new Error('index.html has no #root element.');
}

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <RouterProvider router={router} />
      </ToastProvider>
    </QueryClientProvider>
  </StrictMode>,
);
