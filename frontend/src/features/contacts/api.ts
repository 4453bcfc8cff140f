import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';

import { api } from '../../api';
import type { Contact, ContactStatus, Page, SuppressionImportResult } from '../../api/types';

const PAGE_SIZE = 50;
const COUNT_PAGE_SIZE = 200;
const COUNT_MAX_PAGES = 5;

export const contactKeys = {
  all: ['contacts'] as const,
  lists: ['contacts', 'list'] as const,
  list: (search: string, status: ContactStatus | '') => ['contacts', 'list', search, status] as const,
  count: ['contacts', 'count'] as const,
};

/** A count that stops at `limit`; `complete` is false when more contacts exist. */
export interface ContactCount {
  count: number;
  complete: boolean;
}

// NOTE: the API returns no contact total, so the dashboard counts at most 5 pages of 200
// and shows "1,000+" past that.
async function countContacts(signal: AbortSignal): Promise<ContactCount> {
  let count = 0;
  let cursor: string | null = null;
  for (let pageNumber = 0; pageNumber < COUNT_MAX_PAGES; pageNumber += 1) {
    const page: Page<Contact> = await api.get<Page<Contact>>('/contacts', { cursor, limit: COUNT_PAGE_SIZE }, signal);
    count += page.items.length;
    cursor = page.next_cursor;
    if (cursor === null) {
      return { count, complete: true };
    }
  }
  return { count, complete: false };
}

export function useContactCount() {
  return useQuery({ queryKey: contactKeys.count, queryFn: ({ signal }) => countContacts(signal) });
}

export function useContacts(search: string, status: ContactStatus | '') {
  return useInfiniteQuery({
    queryKey: contactKeys.list(search, status),
    queryFn: ({ pageParam, signal }) =>
      api.get<Page<Contact>>('/contacts', { search, status, cursor: pageParam, limit: PAGE_SIZE }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
}

type ContactPages = InfiniteData<Page<Contact>, string | null>;

export function useSetSubscription() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, subscribe }: { id: string; subscribe: boolean }) =>
      api.post<Contact>(`/contacts/${id}/${subscribe ? 'resubscribe' : 'unsubscribe'}`),
    onSuccess: (contact) => {
      queryClient.setQueriesData<ContactPages>({ queryKey: contactKeys.lists }, (data) =>
        data === undefined
          ? data
          : {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.map((item) => (item.id === contact.id ? contact : item)),
              })),
            },
      );
      void queryClient.invalidateQueries({ queryKey: ['activity'] });
    },
  });
}

export function useImportSuppressions(onProgress: (fraction: number) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append('file', file);
      return api.upload<SuppressionImportResult>('/contacts/suppressions', form, onProgress);
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: contactKeys.all });
      void queryClient.invalidateQueries({ queryKey: ['activity'] });
    },
  });
}
