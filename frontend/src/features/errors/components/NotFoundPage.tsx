import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <main className="auth-page">
      <div className="auth-card card">
        <p className="muted">404</p>
        <h1 className="auth-card__title">Page not found</h1>
        <p>There is no page at this address.</p>
        <Link className="button button--primary" to="/">
          Go to the dashboard
        </Link>
      </div>
    </main>
  );
}
