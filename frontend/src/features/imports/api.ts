import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '../../api';
import type { ImportFile, MappingPreset, MappingUpdate, NumberedPage, RowError, Validation } from '../../api/types';
import type { ConnectionStatus } from '../../live/reducer';
import { pollInterval } from './progress';

export const ERRORS_PAGE_SIZE = 50;

export const importKeys = {
  all: ['imports'] as const,
  detail: (id: string) => ['imports', id] as const,
  errors: (id: string) => ['imports', id, 'errors'] as const,
  errorPage: (id: string, page: number, reason: string) => ['imports', id, 'errors', page, reason] as const,
  validation: (id: string) => ['imports', id, 'validation'] as const,
};

export const presetKeys = {
  all: ['mapping-presets'] as const,
};

/**
 * Loads an import. While its job runs and the live socket is not open (`connection`), it is
 * fetched again every 2 s, so progress and the end of the job still show.
 */
export function useImport(id: string | null, connection: ConnectionStatus = 'open') {
  return useQuery({
    queryKey: importKeys.detail(id ?? ''),
    queryFn: ({ signal }) => api.get<ImportFile>(`/imports/${id}`, undefined, signal),
    enabled: id !== null,
    refetchInterval: (query) => pollInterval(query.state.data?.status, connection),
  });
}

/** Loads the validation result, which the server has once the import is validated. */
export function useImportValidation(id: string, enabled: boolean) {
  return useQuery({
    queryKey: importKeys.validation(id),
    queryFn: ({ signal }) => api.get<Validation>(`/imports/${id}/validation`, undefined, signal),
    enabled,
  });
}

export function useUploadImport(onProgress: (fraction: number) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append('file', file);
      return api.upload<ImportFile>('/imports', form, onProgress);
    },
    onSuccess: (imported) => queryClient.setQueryData(importKeys.detail(imported.id), imported),
  });
}

export function useUpdateMapping(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (update: MappingUpdate) => api.put<ImportFile>(`/imports/${id}/mapping`, update),
    onSuccess: (imported) => queryClient.setQueryData(importKeys.detail(id), imported),
  });
}

/**
 * Starts a background job: validation, staging (with the batch name), or a cancel. The
 * response is the import, status `validating` or `staging` (or `cancelled`). `beforeStart`
 * runs first, so live events of the new job are not mixed with those of an earlier one.
 */
function useImportJob<Variables>(
  id: string,
  request: (variables: Variables) => Promise<ImportFile>,
  beforeStart?: () => void,
) {
  const queryClient = useQueryClient();
  return useMutation({
    onMutate: () => beforeStart?.(),
    mutationFn: request,
    onSuccess: (imported) => {
      queryClient.setQueryData(importKeys.detail(id), imported);
      // The job may have moved on while the response was on its way.
      void queryClient.invalidateQueries({ queryKey: importKeys.detail(id) });
      void queryClient.invalidateQueries({ queryKey: ['activity'] });
    },
  });
}

export function useValidateImport(id: string, beforeStart?: () => void) {
  return useImportJob<void>(id, () => api.post<ImportFile>(`/imports/${id}/validate`), beforeStart);
}

export function useImportErrors(id: string, page: number, reason: string) {
  return useQuery({
    queryKey: importKeys.errorPage(id, page, reason),
    queryFn: ({ signal }) =>
      api.get<NumberedPage<RowError>>(`/imports/${id}/errors`, { page, page_size: ERRORS_PAGE_SIZE, reason }, signal),
    placeholderData: keepPreviousData,
  });
}

/** Return the download URL of the problem rows CSV (original cells, row_number, reason). */
export function errorReportUrl(id: string, reason: string): string {
  const query = reason ? `?${new URLSearchParams({ reason }).toString()}` : '';
  return `/api/v1/imports/${id}/errors.csv${query}`;
}

export function useStageImport(id: string, beforeStart?: () => void) {
  return useImportJob<string>(id, (name) => api.post<ImportFile>(`/imports/${id}/stage`, { name }), beforeStart);
}

export function useCancelImport(id: string) {
  return useImportJob<void>(id, () => api.post<ImportFile>(`/imports/${id}/cancel`));
}

// Mapping presets

export function useMappingPresets() {
  return useQuery({
    queryKey: presetKeys.all,
    queryFn: ({ signal }) => api.get<{ items: MappingPreset[] }>('/mapping-presets', undefined, signal),
    select: (data) => data.items,
  });
}

export function useSavePreset() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; import_id: string }) => api.post<MappingPreset>('/mapping-presets', body),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: presetKeys.all }),
  });
}

export function useDeletePreset() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete<void>(`/mapping-presets/${id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: presetKeys.all }),
  });
}
