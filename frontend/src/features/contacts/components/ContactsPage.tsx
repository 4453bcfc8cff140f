import { useEffect, useState } from 'react';

import { errorMessage } from '../../../api';
import type { Contact, ContactStatus } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import {
  Button,
  Card,
  ContactStatusBadge,
  EmptyState,
  ErrorNotice,
  SelectField,
  Spinner,
  Table,
  TextField,
  useToast,
  type Column,
} from '../../../components/ui';
import { formatDateTime, formatNumber } from '../../../lib/format';
import { useContacts, useSetSubscription } from '../api';
import { SuppressionImport } from './SuppressionImport';

const STATUS_OPTIONS = [
  { value: '', label: 'All statuses' },
  { value: 'subscribed', label: 'Subscribed' },
  { value: 'unsubscribed', label: 'Unsubscribed' },
  { value: 'bounced', label: 'Bounced' },
  { value: 'complained', label: 'Complained' },
];

const SEARCH_DELAY_MS = 300;

function useDebounced(value: string, delayMs: number): string {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

export function ContactsPage() {
  const [searchInput, setSearchInput] = useState('');
  const [status, setStatus] = useState<ContactStatus | ''>('');
  const search = useDebounced(searchInput.trim(), SEARCH_DELAY_MS);
  const contacts = useContacts(search, status);
  const rows = contacts.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <PageHeader
        title="Contacts"
        description="Every address this account has imported, with its subscription status."
      />
      <div className="bento bento--contacts">
        <Card title="Contacts" className="bento__wide">
          <div className="toolbar">
            <TextField
              label="Search"
              type="search"
              placeholder="Email or name"
              value={searchInput}
              onChange={(event) => setSearchInput(event.target.value)}
              fieldClassName="field--grow"
            />
            <SelectField
              label="Status"
              value={status}
              options={STATUS_OPTIONS}
              onChange={(event) => setStatus(event.target.value as ContactStatus | '')}
            />
          </div>
          {contacts.isPending && <Spinner label="Loading contacts…" />}
          <ErrorNotice title="Cannot load contacts." error={contacts.error} />
          {contacts.isSuccess && <ContactTable rows={rows} filtered={search !== '' || status !== ''} />}
          {contacts.hasNextPage && (
            <div className="load-more">
              <Button busy={contacts.isFetchingNextPage} onClick={() => void contacts.fetchNextPage()}>
                Load more
              </Button>
            </div>
          )}
        </Card>
        <SuppressionImport />
      </div>
    </>
  );
}

function ContactTable({ rows, filtered }: { rows: Contact[]; filtered: boolean }) {
  const columns: Column<Contact>[] = [
    { key: 'email', header: 'Email', render: (contact) => <span className="mono">{contact.email}</span> },
    { key: 'name', header: 'Name', render: (contact) => contact.name || '—' },
    { key: 'status', header: 'Status', render: (contact) => <ContactStatusBadge status={contact.status} /> },
    { key: 'sends', header: 'Sends', numeric: true, render: (contact) => formatNumber(contact.send_count) },
    { key: 'last', header: 'Last sent', render: (contact) => formatDateTime(contact.last_sent_at) },
    {
      key: 'action',
      header: <span className="visually-hidden">Actions</span>,
      render: (contact) => <SubscriptionButton contact={contact} />,
    },
  ];
  return (
    <Table
      caption="Contacts"
      columns={columns}
      rows={rows}
      rowKey={(contact) => contact.id}
      empty={
        <EmptyState
          title={filtered ? 'No contact matches this search.' : 'No contacts yet. Import a contact file to add some.'}
        />
      }
    />
  );
}

function SubscriptionButton({ contact }: { contact: Contact }) {
  const setSubscription = useSetSubscription();
  const toast = useToast();

  // Bounced and complained addresses stay suppressed: resubscribing them would harm delivery.
  if (contact.status === 'bounced' || contact.status === 'complained') {
    return null;
  }
  const subscribe = contact.status === 'unsubscribed';
  const action = subscribe ? 'Resubscribe' : 'Unsubscribe';

  return (
    <Button
      size="sm"
      variant={subscribe ? 'secondary' : 'ghost'}
      busy={setSubscription.isPending}
      aria-label={`${action} ${contact.email}`}
      onClick={() =>
        setSubscription.mutate(
          { id: contact.id, subscribe },
          {
            onSuccess: () => toast.show('success', `${subscribe ? 'Resubscribed' : 'Unsubscribed'} ${contact.email}.`),
            onError: (error) => toast.show('error', `${action} failed: ${errorMessage(error)}`),
          },
        )
      }
    >
      {action}
    </Button>
  );
}
