import { useQuery } from '@tanstack/react-query';

import { api } from '../../api';

/** The account's totals, counted by the server. */
export interface Summary {
  contacts: number;
  contacts_by_status: Record<string, number>;
  batches: number;
  batches_by_status: Record<string, number>;
  messages_sent: number;
}

export const summaryKey = ['summary'] as const;

// Sends change the totals while the dashboard is open, so they are read again now and then.
const REFRESH_MS = 10_000;

export function useSummary() {
  return useQuery({
    queryKey: summaryKey,
    queryFn: ({ signal }) => api.get<Summary>('/summary', undefined, signal),
    refetchInterval: REFRESH_MS,
  });
}
