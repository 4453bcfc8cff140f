import { useEffect, useState } from 'react';
import { NavLink, useLocation } from 'react-router';

const NAV_ITEMS = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/templates', label: 'Templates', end: false },
  { to: '/imports/new', label: 'Import', end: false },
  { to: '/batches', label: 'Batches', end: false },
  { to: '/contacts', label: 'Contacts', end: false },
  { to: '/activity', label: 'Activity', end: false },
  { to: '/settings', label: 'Settings', end: false },
];

/**
 * The main navigation. On narrow screens the links fold behind a Menu button, which opens
 * them as a list and closes again on navigation or Escape.
 */
export function MainNav() {
  const [open, setOpen] = useState(false);
  const { pathname } = useLocation();

  useEffect(() => {
    setOpen(false);
  }, [pathname]);

  useEffect(() => {
    if (!open) {
      return undefined;
    }
    const closeOnEscape = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
      }
    };
    document.addEventListener('keydown', closeOnEscape);
    return () => document.removeEventListener('keydown', closeOnEscape);
  }, [open]);

  return (
    <>
      <button
        type="button"
        className="app-nav-toggle"
        aria-expanded={open}
        aria-controls="main-nav"
        onClick={() => setOpen((value) => !value)}
      >
        {open ? 'Close' : 'Menu'}
      </button>
      <nav id="main-nav" className={`app-nav${open ? ' app-nav--open' : ''}`} aria-label="Main">
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
    </>
  );
}
