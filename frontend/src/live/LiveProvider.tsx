import { useQueryClient } from '@tanstack/react-query';
import { createContext, useEffect, useState, type ReactNode } from 'react';

import { api } from '../api';
import { LiveCacheUpdater } from './cache';
import { LiveSocket, liveUrl } from './socket';
import { LiveStore } from './store';

export const LiveStoreContext = createContext<LiveStore | null>(null);

/** Opens the shared live socket while mounted (inside the signed-in app) and feeds the caches. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [store] = useState(() => new LiveStore());

  useEffect(() => {
    const cache = new LiveCacheUpdater(queryClient);
    const socket = new LiveSocket({
      url: liveUrl(),
      onEvent: (event) => {
        cache.apply(event);
        store.dispatch({ type: 'event', event });
      },
      onStatus: (status) => {
        store.dispatch({ type: 'connection', status });
        if (status === 'open') {
          cache.refetchSnapshots();
        }
      },
      // GET /auth/me refreshes an expired session, or sends the user to sign in.
      beforeReconnect: () => api.get('/auth/me'),
    });
    socket.start();
    return () => socket.stop();
  }, [queryClient, store]);

  return <LiveStoreContext.Provider value={store}>{children}</LiveStoreContext.Provider>;
}
