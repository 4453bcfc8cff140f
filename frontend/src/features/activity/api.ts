import { useInfiniteQuery, useQuery } from '@tanstack/react-query';

import { api } from '../../api';
import type { ActivityEntry, Page } from '../../api/types';

export const activityKeys = {
  all: ['activity'] as const,
  feed: ['activity', 'feed'] as const,
  recent: (limit: number) => ['activity', 'recent', limit] as const,
};

export function useActivityFeed() {
  return useInfiniteQuery({
    queryKey: activityKeys.feed,
    queryFn: ({ pageParam, signal }) =>
      api.get<Page<ActivityEntry>>('/activity', { cursor: pageParam, limit: 50 }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
}

export function useRecentActivity(limit: number) {
  return useQuery({
    queryKey: activityKeys.recent(limit),
    queryFn: ({ signal }) => api.get<Page<ActivityEntry>>('/activity', { limit }, signal),
  });
}

/** Returns the dashboard path of the object an entry is about, or null when it has none. */
export function activitySubjectPath(entry: ActivityEntry): string | null {
  if (entry.subject_id === null) {
    return null;
  }
  switch (entry.subject_type) {
    case 'batch':
      return `/batches/${entry.subject_id}`;
    case 'template':
      return `/templates/${entry.subject_id}`;
    case 'import':
      return `/imports/new?import=${entry.subject_id}`;
    default:
      return null;
  }
}
