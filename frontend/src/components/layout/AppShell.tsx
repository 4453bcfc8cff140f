import { NavLink, Outlet } from 'react-router';

import { RequireAuth } from '../../features/auth/components/RequireAuth';
import { LiveProvider } from '../../live/LiveProvider';
import { MainNav } from './MainNav';
import { StatusPill } from './StatusPill';
import { UserMenu } from './UserMenu';
import { WorkerNotice } from './WorkerNotice';

/** Renders the signed-in chrome (header and navigation) and opens the shared live socket. */
export function AppShell() {
  return (
    <RequireAuth>
      <LiveProvider>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="app-header">
          <div className="app-header__inner">
            <NavLink to="/" className="brand" end>
              <span className="brand__mark" aria-hidden="true" />
              CCA Campaign Manager
            </NavLink>
            <MainNav />
            <div className="app-header__end">
              <StatusPill />
              <UserMenu />
            </div>
          </div>
        </header>
        <main id="main" className="page">
          <WorkerNotice />
          <Outlet />
        </main>
      </LiveProvider>
    </RequireAuth>
  );
}
