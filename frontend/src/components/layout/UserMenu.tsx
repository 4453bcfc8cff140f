import { useEffect, useId, useRef, useState } from 'react';
import { useNavigate } from 'react-router';

import { useToast } from '../ui';
import { errorMessage } from '../../api';
import { useCurrentUser, useLogout } from '../../features/auth/api';

export function UserMenu() {
  const me = useCurrentUser();
  const logout = useLogout();
  const navigate = useNavigate();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const rootRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) {
      return undefined;
    }
    function closeOnOutsideClick(event: MouseEvent) {
      if (rootRef.current !== null && !rootRef.current.contains(event.target as Node)) {
        setOpen(false);
      }
    }
    function closeOnEscape(event: KeyboardEvent) {
      if (event.key === 'Escape') {
        setOpen(false);
      }
    }
    document.addEventListener('mousedown', closeOnOutsideClick);
    document.addEventListener('keydown', closeOnEscape);
    return () => {
      document.removeEventListener('mousedown', closeOnOutsideClick);
      document.removeEventListener('keydown', closeOnEscape);
    };
  }, [open]);

  function signOut(everywhere: boolean) {
    setOpen(false);
    logout.mutate(everywhere, {
      onSuccess: () => navigate('/login', { replace: true }),
      onError: (error) => toast.show('error', `Sign-out failed: ${errorMessage(error)}`),
    });
  }

  const label = me.data?.name || me.data?.email || 'Account';

  return (
    <div className="user-menu" ref={rootRef}>
      <button
        type="button"
        className="user-menu__button"
        aria-label={`Account menu for ${label}`}
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen((value) => !value)}
      >
        <span className="user-menu__avatar" aria-hidden="true">
          {label.charAt(0).toUpperCase()}
        </span>
        <span className="user-menu__name">{label}</span>
      </button>
      {open && (
        <div className="user-menu__panel" id={menuId}>
          {me.data && <p className="user-menu__email">{me.data.email}</p>}
          <button type="button" className="user-menu__item" onClick={() => signOut(false)}>
            Log out
          </button>
          <button type="button" className="user-menu__item" onClick={() => signOut(true)}>
            Log out everywhere
          </button>
        </div>
      )}
    </div>
  );
}
