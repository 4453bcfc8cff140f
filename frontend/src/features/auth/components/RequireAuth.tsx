import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';

import { ApiError } from '../../../api';
import { Button, ErrorNotice, Spinner } from '../../../components/ui';
import { useCurrentUser } from '../api';

/** Renders its children for a signed-in user and sends everyone else to /login. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const location = useLocation();
  const me = useCurrentUser();

  if (me.isPending) {
    return (
      <main className="center-page">
        <Spinner label="Checking your session…" />
      </main>
    );
  }

  if (me.error instanceof ApiError && me.error.status === 401) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }

  if (me.error) {
    return (
      <main className="center-page">
        <div className="stack">
          <ErrorNotice title="Cannot load your account." error={me.error} />
          <Button variant="primary" onClick={() => void me.refetch()}>
            Try again
          </Button>
        </div>
      </main>
    );
  }

  return <>{children}</>;
}
