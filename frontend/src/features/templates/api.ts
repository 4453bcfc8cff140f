import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '../../api';
import type {
  DraftUpdate,
  PreviewRequest,
  RenderedMessage,
  Template,
  TemplateSummary,
  TemplateVersion,
} from '../../api/types';

export const templateKeys = {
  all: ['templates'] as const,
  list: ['templates', 'list'] as const,
  detail: (id: string) => ['templates', 'detail', id] as const,
  versions: (id: string) => ['templates', 'detail', id, 'versions'] as const,
};

export function useTemplates() {
  return useQuery({
    queryKey: templateKeys.list,
    queryFn: ({ signal }) => api.get<TemplateSummary[]>('/templates', undefined, signal),
  });
}

export function useTemplate(id: string) {
  return useQuery({
    queryKey: templateKeys.detail(id),
    queryFn: ({ signal }) => api.get<Template>(`/templates/${id}`, undefined, signal),
  });
}

/** Published versions, newest first; `enabled` false skips the request. */
export function useTemplateVersions(id: string, enabled = true) {
  return useQuery({
    queryKey: templateKeys.versions(id),
    queryFn: ({ signal }) => api.get<TemplateVersion[]>(`/templates/${id}/versions`, undefined, signal),
    enabled: enabled && id !== '',
  });
}

export function useCreateTemplate() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.post<Template>('/templates', { name }),
    onSuccess: (template) => {
      queryClient.setQueryData(templateKeys.detail(template.id), template);
      void queryClient.invalidateQueries({ queryKey: templateKeys.list });
    },
  });
}

export function useSaveDraft(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (draft: DraftUpdate) => api.put<Template>(`/templates/${id}/draft`, draft),
    onSuccess: (template) => {
      queryClient.setQueryData(templateKeys.detail(id), template);
      void queryClient.invalidateQueries({ queryKey: templateKeys.list });
    },
  });
}

export function usePublishTemplate(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<TemplateVersion>(`/templates/${id}/publish`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: templateKeys.all });
      void queryClient.invalidateQueries({ queryKey: ['activity'] });
    },
  });
}

export function usePreview(id: string) {
  return useMutation({
    mutationFn: (request: PreviewRequest) => api.post<RenderedMessage>(`/templates/${id}/preview`, request),
  });
}
