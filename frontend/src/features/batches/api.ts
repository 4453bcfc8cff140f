import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';

import { api } from '../../api';
import type { Batch, Page, Recipient, RecipientStatus } from '../../api/types';

export const PAGE_SIZE = 50;
const SUMMARY_PAGE_SIZE = 200;
const SUMMARY_MAX_PAGES = 5;

// Every batch query starts with 'batches', so one invalidation refetches every snapshot.
export const batchKeys = {
  all: ['batches'] as const,
  lists: ['batches', 'list'] as const,
  summary: ['batches', 'summary'] as const,
  detail: (id: string) => ['batches', 'detail', id] as const,
  recipients: (id: string) => ['batches', 'detail', id, 'recipients'] as const,
  recipientsByStatus: (id: string, status: RecipientStatus | '') =>
    ['batches', 'detail', id, 'recipients', status] as const,
};

/** The newest batches, up to 1,000; `complete` is false when more exist. */
export interface BatchSummary {
  items: Batch[];
  next_cursor: string | null;
  complete: boolean;
}

export function fetchBatch(id: string, signal?: AbortSignal): Promise<Batch> {
  return api.get<Batch>(`/batches/${id}`, undefined, signal);
}

// Launches in flight by batch id. A double click sends a second launch before React has
// disabled the button; that click gets the first request's result instead of a 409.
const launching = new Map<string, Promise<Batch>>();

export function launchBatch(id: string): Promise<Batch> {
  const pending = launching.get(id);
  if (pending !== undefined) {
    return pending;
  }
  const request = api.post<Batch>(`/batches/${id}/launch`).finally(() => launching.delete(id));
  launching.set(id, request);
  return request;
}

export type BatchAction = 'pause' | 'resume' | 'cancel' | 'retry-failed';

export function runBatchAction(id: string, action: BatchAction): Promise<Batch> {
  return api.post<Batch>(`/batches/${id}/${action}`);
}

/** Return the download URL of the failed recipients CSV (row, email, reason). */
export function failedExportUrl(id: string): string {
  return `/api/v1/batches/${id}/failed.csv`;
}

// NOTE: the API has no batch count, so the dashboard totals read at most 5 pages of 200.
async function fetchBatchSummary(signal: AbortSignal): Promise<BatchSummary> {
  const items: Batch[] = [];
  let cursor: string | null = null;
  for (let pageNumber = 0; pageNumber < SUMMARY_MAX_PAGES; pageNumber += 1) {
    const page: Page<Batch> = await api.get<Page<Batch>>('/batches', { cursor, limit: SUMMARY_PAGE_SIZE }, signal);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (cursor === null) {
      break;
    }
  }
  return { items, next_cursor: cursor, complete: cursor === null };
}

export function isBatchActive(batch: Pick<Batch, 'status'>): boolean {
  return batch.status === 'running' || batch.status === 'paused';
}

// Live events keep an active batch current. Polling is the fallback while the socket is
// down, and a slow check while it is up in case a coalesced final event never arrives.
function pollInterval(batch: Batch | undefined, liveOpen: boolean): number | false {
  if (batch === undefined || !isBatchActive(batch)) {
    return false;
  }
  return liveOpen ? 30_000 : 5_000;
}

export function useBatch(id: string, liveOpen: boolean) {
  return useQuery({
    queryKey: batchKeys.detail(id),
    queryFn: ({ signal }) => fetchBatch(id, signal),
    refetchInterval: (query) => pollInterval(query.state.data, liveOpen),
  });
}

export function useBatchList() {
  return useInfiniteQuery({
    queryKey: batchKeys.lists,
    queryFn: ({ pageParam, signal }) =>
      api.get<Page<Batch>>('/batches', { cursor: pageParam, limit: PAGE_SIZE }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
}

export function useBatchSummary() {
  return useQuery({ queryKey: batchKeys.summary, queryFn: ({ signal }) => fetchBatchSummary(signal) });
}

export function useRecipients(batchId: string, status: RecipientStatus | '') {
  return useInfiniteQuery({
    queryKey: batchKeys.recipientsByStatus(batchId, status),
    queryFn: ({ pageParam, signal }) =>
      api.get<Page<Recipient>>(
        `/batches/${batchId}/recipients`,
        { status, cursor: pageParam, limit: PAGE_SIZE },
        signal,
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
}

export function useLaunchBatch() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: launchBatch,
    onSuccess: (batch) => {
      queryClient.setQueryData(batchKeys.detail(batch.id), batch);
      void queryClient.invalidateQueries({ queryKey: batchKeys.lists });
      void queryClient.invalidateQueries({ queryKey: batchKeys.summary });
      void queryClient.invalidateQueries({ queryKey: batchKeys.recipients(batch.id) });
    },
  });
}

export function useBatchAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: BatchAction }) => runBatchAction(id, action),
    onSuccess: (batch) => {
      queryClient.setQueryData(batchKeys.detail(batch.id), batch);
      void queryClient.invalidateQueries({ queryKey: batchKeys.lists });
      void queryClient.invalidateQueries({ queryKey: batchKeys.summary });
      void queryClient.invalidateQueries({ queryKey: batchKeys.recipients(batch.id) });
    },
  });
}

export type RecipientPages = InfiniteData<Page<Recipient>, string | null>;
export type BatchPages = InfiniteData<Page<Batch>, string | null>;
