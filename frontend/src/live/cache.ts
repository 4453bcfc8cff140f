import type { QueryClient } from '@tanstack/react-query';

import type {
  Batch,
  BatchProgressEvent,
  ImportFile,
  ImportFinishedEvent,
  ImportProgressEvent,
  LiveEvent,
  RecipientUpdatedEvent,
} from '../api/types';
import { batchKeys, type BatchPages, type BatchSummary, type RecipientPages } from '../features/batches/api';
import { importKeys } from '../features/imports/api';
import { applyImportFinished, applyImportProgress } from '../features/imports/progress';
import { applyBatchProgress, applyBatchProgressToPage, applyRecipientUpdateToPage } from './reducer';

/** Writes one live event into the TanStack Query caches of the batch pages. */
export class LiveCacheUpdater {
  private readonly queryClient: QueryClient;
  // Batches for which a missing list row already caused one refetch.
  private readonly listedBatchIds = new Set<string>();

  constructor(queryClient: QueryClient) {
    this.queryClient = queryClient;
  }

  apply(event: LiveEvent): void {
    switch (event.type) {
      case 'batch.progress':
        this.applyProgress(event);
        break;
      case 'recipient.updated':
        this.applyRecipient(event);
        break;
      case 'import.progress':
        this.applyImportProgress(event);
        break;
      case 'import.finished':
        this.applyImportFinished(event);
        break;
    }
  }

  /** Refetches every batch and import snapshot; called on each (re)connect, before events apply to them. */
  refetchSnapshots(): void {
    void this.queryClient.invalidateQueries({ queryKey: batchKeys.all });
    void this.queryClient.invalidateQueries({ queryKey: importKeys.all });
  }

  private applyImportProgress(event: ImportProgressEvent): void {
    this.queryClient.setQueryData<ImportFile>(importKeys.detail(event.import_id), (imported) =>
      imported === undefined ? imported : applyImportProgress(imported, event),
    );
  }

  /** Writes the end state, then reloads the import, its results and what staging created. */
  private applyImportFinished(event: ImportFinishedEvent): void {
    const id = event.import_id;
    this.queryClient.setQueryData<ImportFile>(importKeys.detail(id), (imported) =>
      imported === undefined ? imported : applyImportFinished(imported, event),
    );
    void this.queryClient.invalidateQueries({ queryKey: importKeys.detail(id) });
    if (event.status === 'validated') {
      void this.queryClient.invalidateQueries({ queryKey: importKeys.validation(id) });
      void this.queryClient.invalidateQueries({ queryKey: importKeys.errors(id) });
    }
    if (event.status === 'staged') {
      void this.queryClient.invalidateQueries({ queryKey: batchKeys.all });
    }
    void this.queryClient.invalidateQueries({ queryKey: ['activity'] });
  }

  private applyProgress(event: BatchProgressEvent): void {
    const before = this.queryClient.getQueryData<Batch>(batchKeys.detail(event.batch_id));
    this.queryClient.setQueryData<Batch>(batchKeys.detail(event.batch_id), (batch) =>
      batch === undefined ? batch : applyBatchProgress(batch, event),
    );

    let listed = false;
    this.queryClient.setQueriesData<BatchPages>({ queryKey: batchKeys.lists }, (data) => {
      if (data === undefined) {
        return data;
      }
      listed ||= data.pages.some((page) => page.items.some((batch) => batch.id === event.batch_id));
      return { ...data, pages: data.pages.map((page) => applyBatchProgressToPage(page, event)) };
    });
    this.queryClient.setQueryData<BatchSummary>(batchKeys.summary, (summary) => {
      if (summary === undefined) {
        return summary;
      }
      listed ||= summary.items.some((batch) => batch.id === event.batch_id);
      return { ...summary, ...applyBatchProgressToPage(summary, event) };
    });

    // A batch launched in another tab is in no cached list yet.
    if (!listed && !this.listedBatchIds.has(event.batch_id)) {
      this.listedBatchIds.add(event.batch_id);
      void this.queryClient.invalidateQueries({ queryKey: batchKeys.lists });
      void this.queryClient.invalidateQueries({ queryKey: batchKeys.summary });
    }

    if (before === undefined || before.status === event.status) {
      return;
    }
    // A status change (launched, completed) also writes an activity entry.
    void this.queryClient.invalidateQueries({ queryKey: ['activity'] });
    // Events carry no completion time or attempt counts: a finished batch reloads its
    // snapshot and recipients once.
    if (event.status === 'completed' || event.status === 'cancelled') {
      void this.queryClient.invalidateQueries({ queryKey: batchKeys.detail(event.batch_id) });
    }
  }

  private applyRecipient(event: RecipientUpdatedEvent): void {
    this.queryClient.setQueriesData<RecipientPages>({ queryKey: batchKeys.recipients(event.batch_id) }, (data) => {
      if (data === undefined) {
        return data;
      }
      return { ...data, pages: data.pages.map((page) => applyRecipientUpdateToPage(page, event)) };
    });
  }
}
