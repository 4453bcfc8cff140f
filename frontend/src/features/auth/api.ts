import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '../../api';
import type { LoginRequest, SignupRequest, User } from '../../api/types';

export const meKey = ['auth', 'me'] as const;

export function useCurrentUser() {
  return useQuery({
    queryKey: meKey,
    queryFn: ({ signal }) => api.get<User>('/auth/me', undefined, signal),
    staleTime: 5 * 60_000,
  });
}

/** Options of the sign-in pages: `signup` is false when the server closed sign-up. */
export interface AuthOptions {
  signup: boolean;
}

export function useAuthOptions() {
  return useQuery({
    queryKey: ['auth', 'options'],
    queryFn: ({ signal }) => api.get<AuthOptions>('/auth/options', undefined, signal),
    staleTime: 5 * 60_000,
  });
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: LoginRequest) => api.post<User>('/auth/login', request),
    onSuccess: (user) => {
      queryClient.clear();
      queryClient.setQueryData(meKey, user);
    },
  });
}

export function useSignup() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: SignupRequest) => api.post<User>('/auth/signup', request),
    onSuccess: (user) => {
      queryClient.clear();
      queryClient.setQueryData(meKey, user);
    },
  });
}

/** Ends this session, or with `everywhere` every session of the account. */
export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (everywhere: boolean) => api.post<void>(everywhere ? '/auth/logout-all' : '/auth/logout'),
    onSettled: () => {
      queryClient.clear();
    },
  });
}

/** Only same-site paths, so a crafted ?next= cannot send the user to another site. */
export function safeNextPath(next: string | null): string {
  if (next === null || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) {
    return '/';
  }
  return next;
}
