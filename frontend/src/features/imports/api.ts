import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '../../api';
import type { Batch, ImportFile, MappingUpdate, NumberedPage, RowError, Validation } from '../../api/types';

export const ERRORS_PAGE_SIZE = 50;

export const importKeys = {
  all: ['imports'] as const,
  detail: (id: string) => ['imports', id] as const,
  errors: (id: string) => ['imports', id, 'errors'] as const,
  errorPage: (id: string, page: number, reason: string) => ['imports', id, 'errors', page, reason] as const,
};

export function useImport(id: string | null) {
  return useQuery({
    queryKey: importKeys.detail(id ?? ''),
    queryFn: ({ signal }) => api.get<ImportFile>(`/imports/${id}`, undefined, signal),
    enabled: id !== null,
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

export function useValidateImport(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<Validation>(`/imports/${id}/validate`),
    onSuccess: (validation) => {
      queryClient.setQueryData<ImportFile>(importKeys.detail(id), (imported) =>
        imported === undefined ? imported : { ...imported, status: 'validated', validation },
      );
      void queryClient.invalidateQueries({ queryKey: importKeys.detail(id) });
      void queryClient.invalidateQueries({ queryKey: importKeys.errors(id) });
      void queryClient.invalidateQueries({ queryKey: ['activity'] });
    },
  });
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

export function useStageImport(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.post<Batch>(`/imports/${id}/stage`, { name }),
    onSuccess: (batch) => {
      queryClient.setQueryData(['batches', 'detail', batch.id], batch);
      void queryClient.invalidateQueries({ queryKey: importKeys.detail(id) });
      void queryClient.invalidateQueries({ queryKey: ['batches'] });
      void queryClient.invalidateQueries({ queryKey: ['activity'] });
    },
  });
}
