import { describe, expect, it } from 'vitest';

import { detectFields, mergeFieldSettings } from './fields';

describe('detectFields', () => {
  it('lists fields in order of first use across subject, html and text', () => {
    expect(detectFields('Hi {{ first_name }}', '<p>{{company}} {{ first_name }}</p>', '{{ city }}')).toEqual([
      'first_name',
      'company',
      'city',
    ]);
  });

  it('leaves out unsubscribe_url and invalid syntax', () => {
    expect(detectFields('{{ unsubscribe_url }} {{#each items}} {{ user.name }} {{ 1st }}')).toEqual([]);
  });
});

describe('mergeFieldSettings', () => {
  it('keeps settings of known fields and adds new ones as required', () => {
    const merged = mergeFieldSettings(
      ['first_name', 'city'],
      [
        { name: 'first_name', required: false, default: 'there', sample: 'Jane' },
        { name: 'removed', required: true, default: null, sample: null },
      ],
    );

    expect(merged).toEqual([
      { name: 'first_name', required: false, default: 'there', sample: 'Jane' },
      { name: 'city', required: true, default: null, sample: null },
    ]);
  });
});
