import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '../../api';
import type { Settings, SettingsUpdate } from '../../api/types';

export const settingsKey = ['settings'] as const;

export function useSettings() {
  return useQuery({
    queryKey: settingsKey,
    queryFn: ({ signal }) => api.get<Settings>('/settings', undefined, signal),
  });
}

export function useUpdateSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (update: SettingsUpdate) => api.put<Settings>('/settings', update),
    onSuccess: (settings) => queryClient.setQueryData(settingsKey, settings),
  });
}
