import { useQuery } from '@tanstack/react-query';

import { api } from '../../api';

/** The part of `GET /api/v1/health` this notice reads. */
interface Health {
  workers: number | null;
}

const CHECK_INTERVAL_MS = 15_000;

/**
 * Warns when the server runs with a separate worker and none is alive, because sends and
 * import jobs then wait without any other sign. The embedded default reports `workers: null`.
 */
export function WorkerNotice() {
  const health = useQuery({
    queryKey: ['health'],
    queryFn: ({ signal }) => api.get<Health>('/health', undefined, signal),
    refetchInterval: CHECK_INTERVAL_MS,
  });
  if (health.data?.workers !== 0) {
    return null;
  }
  return (
    <div className="notice notice--warning worker-notice" role="status" data-testid="worker-notice">
      <strong className="notice__title">No worker is running.</strong>
      <span>
        Batches and imports wait until one starts. Start a worker with <code>make worker</code> (or{' '}
        <code>taskiq worker workers.broker:broker</code>); nothing is lost meanwhile.
      </span>
    </div>
  );
}
