import { lazy, Suspense, type ReactNode } from 'react';
import { createBrowserRouter } from 'react-router';

import { AppShell } from './components/layout/AppShell';
import { Spinner } from './components/ui';
import { ActivityPage } from './features/activity/components/ActivityPage';
import { LoginPage } from './features/auth/components/LoginPage';
import { SignupPage } from './features/auth/components/SignupPage';
import { BatchDetailPage } from './features/batches/components/BatchDetailPage';
import { BatchesPage } from './features/batches/components/BatchesPage';
import { ContactsPage } from './features/contacts/components/ContactsPage';
import { DashboardPage } from './features/dashboard/components/DashboardPage';
import { NotFoundPage } from './features/errors/components/NotFoundPage';
import { RouteErrorPage } from './features/errors/components/RouteErrorPage';
import { ImportWizardPage } from './features/imports/components/ImportWizardPage';
import { SettingsPage } from './features/settings/components/SettingsPage';
import { TemplatesPage } from './features/templates/components/TemplatesPage';
import { UnsubscribePage } from './features/unsubscribe/components/UnsubscribePage';

// CodeMirror is most of the bundle, so the editor loads only when opened.
const TemplateEditorPage = lazy(() =>
  import('./features/templates/components/TemplateEditorPage').then((module) => ({
    default: module.TemplateEditorPage,
  })),
);

function Lazy({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Spinner label="Loading page…" />}>{children}</Suspense>;
}

export function createRouter() {
  return createBrowserRouter([
    { path: '/login', element: <LoginPage />, errorElement: <RouteErrorPage /> },
    { path: '/signup', element: <SignupPage />, errorElement: <RouteErrorPage /> },
    { path: '/unsubscribe/:token', element: <UnsubscribePage />, errorElement: <RouteErrorPage /> },
    {
      path: '/',
      element: <AppShell />,
      errorElement: <RouteErrorPage />,
      children: [
        { index: true, element: <DashboardPage /> },
        { path: 'templates', element: <TemplatesPage /> },
        {
          path: 'templates/:id',
          element: (
            <Lazy>
              <TemplateEditorPage />
            </Lazy>
          ),
        },
        { path: 'imports/new', element: <ImportWizardPage /> },
        { path: 'batches', element: <BatchesPage /> },
        { path: 'batches/:id', element: <BatchDetailPage /> },
        { path: 'contacts', element: <ContactsPage /> },
        { path: 'activity', element: <ActivityPage /> },
        { path: 'settings', element: <SettingsPage /> },
      ],
    },
    { path: '*', element: <NotFoundPage /> },
  ]);
}

export type AppRouter = ReturnType<typeof createRouter>;
