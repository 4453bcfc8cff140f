import { isRouteErrorResponse, Link, useRouteError } from 'react-router';

import { errorMessage } from '../../../api';

/** Shown when a page throws while rendering, instead of a blank screen. */
export function RouteErrorPage() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : errorMessage(error);
  return (
    <main className="auth-page">
      <div className="auth-card card">
        <h1 className="auth-card__title">This page failed to load</h1>
        <p className="notice notice--error" role="alert">
          {message}
        </p>
        <p>
          Reload the page, or <Link to="/">go to the dashboard</Link>.
        </p>
      </div>
    </main>
  );
}
