import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '../../api';
import type { UnsubscribeInfo } from '../../api/types';

const infoKey = (token: string) => ['public', 'unsubscribe', token] as const;

function path(token: string): string {
  return `/public/unsubscribe/${encodeURIComponent(token)}`;
}

export function useUnsubscribeInfo(token: string) {
  return useQuery({
    queryKey: infoKey(token),
    queryFn: ({ signal }) => api.request<UnsubscribeInfo>('GET', path(token), { anonymous: true, signal }),
  });
}

export function useConfirmUnsubscribe(token: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.request<UnsubscribeInfo>('POST', path(token), { anonymous: true }),
    onSuccess: (info) => queryClient.setQueryData(infoKey(token), info),
  });
}
