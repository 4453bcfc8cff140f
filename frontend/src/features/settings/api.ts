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

/** Asks Brevo for the account of the key in effect. Within 10 minutes of a check, the API returns the stored result. */
export function useCheckKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<Settings>('/settings/check-key'),
    onSuccess: (settings) => queryClient.setQueryData(settingsKey, settings),
  });
}

/** Replaces the webhook token, so the old webhook URL gets 401 from then on. */
export function useRotateWebhook() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<Settings>('/settings/rotate-webhook'),
    onSuccess: (settings) => queryClient.setQueryData(settingsKey, settings),
  });
}
