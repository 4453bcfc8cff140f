import { PageHeader } from '../../../components/layout/PageHeader';
import { Button, Card, EmptyState, ErrorNotice, Spinner } from '../../../components/ui';
import { useActivityFeed } from '../api';
import { ActivityList } from './ActivityList';

export function ActivityPage() {
  const feed = useActivityFeed();
  const entries = feed.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <PageHeader title="Activity" description="What happened in this account, newest first." />
      <Card>
        {feed.isPending && <Spinner label="Loading activity…" />}
        <ErrorNotice title="Cannot load activity." error={feed.error} />
        {feed.isSuccess && entries.length === 0 && <EmptyState title="No activity yet." />}
        {entries.length > 0 && <ActivityList entries={entries} />}
        {feed.hasNextPage && (
          <div className="load-more">
            <Button busy={feed.isFetchingNextPage} onClick={() => void feed.fetchNextPage()}>
              Load more
            </Button>
          </div>
        )}
      </Card>
    </>
  );
}
