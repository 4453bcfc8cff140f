import { NavLink, Outlet } from 'react-router';

import { RequireAuth } from '../../features/auth/components/RequireAuth';
import { LiveProvider } from '../../live/LiveProvider';
import { StatusPill } from './StatusPill';
import { UserMenu } from './UserMenu';

const NAV_ITEMS = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/templates', label: 'Templates', end: false },
  { to: '/imports/new', label: 'Import', end: false },
  { to: '/batches', label: 'Batches', end: false },
  { to: '/contacts', label: 'Contacts', end: false },
  { to: '/activity', label: 'Activity', end: false },
  { to: '/settings', label: 'Settings', end: false },
];

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
            <nav className="app-nav" aria-label="Main">
              {NAV_ITEMS.map((item) => (
                <NavLink
                  key={item.to}
                  to={item.to}
                  end={item.end}
                  className={({ isActive }) => `app-nav__link${isActive ? ' app-nav__link--active' : ''}`}
                >
                  {item.label}
                </NavLink>
              ))}
            </nav>
            <div className="app-header__end">
              <StatusPill />
              <UserMenu />
            </div>
          </div>
        </header>
        <main id="main" className="page">
          <Outlet />
        </main>
      </LiveProvider>
    </RequireAuth>
  );
}
