import type { ReactNode } from 'react';

export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-card card card--focal">
        <p className="brand brand--center">
          <span className="brand__mark" aria-hidden="true" />
          CCA Campaign Manager
        </p>
        <h1 className="auth-card__title">{title}</h1>
        {children}
      </div>
    </main>
  );
}
