import { useCallback, useContext, useEffect, useRef, useSyncExternalStore } from 'react';

import type { LiveEvent } from '../api/types';
import { LiveStoreContext } from './LiveProvider';
import type { LiveImportState } from './imports';
import { initialLiveState, type ConnectionStatus, type LiveBatchState, type LiveState } from './reducer';
import type { LiveStore } from './store';

const noStore = {
  subscribe: () => () => undefined,
  getState: () => initialLiveState,
};

function useStore(): LiveStore | null {
  return useContext(LiveStoreContext);
}

function useLiveState(): LiveState {
  const store = useStore() ?? noStore;
  return useSyncExternalStore(store.subscribe, store.getState);
}

export function useLiveStatus(): ConnectionStatus {
  return useLiveState().connection;
}

/** Returns the latest progress of a batch, with rate and ETA, or null before its first event. */
export function useLiveBatch(batchId: string): LiveBatchState | null {
  return useLiveState().batches[batchId] ?? null;
}

/** Returns the latest live state of an import's job, or null before its first event. */
export function useLiveImport(importId: string): LiveImportState | null {
  return useLiveState().imports[importId] ?? null;
}

/** Returns a function that clears an import's live job state, called when a new job starts. */
export function useResetLiveImport(): (importId: string) => void {
  const store = useStore();
  return useCallback((importId: string) => store?.dispatch({ type: 'import.reset', importId }), [store]);
}

/** Calls `listener` for every live event while the component is mounted. */
export function useLiveEvents(listener: (event: LiveEvent) => void): void {
  const store = useStore();
  const latest = useRef(listener);

  useEffect(() => {
    latest.current = listener;
  });

  useEffect(() => {
    if (store === null) {
      return undefined;
    }
    return store.subscribeToEvents((event) => latest.current(event));
  }, [store]);
}
