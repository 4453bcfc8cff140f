import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from '@tanstack/react-query';

import { api } from '../../api';
import type { Contact, ContactStatus, Page, SuppressionImportResult } from '../../api/types';

const PAGE_SIZE = 50;

export const contactKeys = {
  all: ['contacts'] as const,
  lists: ['contacts', 'list'] as const,
  list: (search: string, status: ContactStatus | '') => ['contacts', 'list', search, status] as const,
};

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
