// The table's shape, shared by the CDK stack and by the local bootstrap (cli/local/table.ts) so the
// two cannot drift.
export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

/**
 * What an index copies of each item besides the keys (the table's, the index's), which are always
 * there: every attribute, or only the named ones.
 */
export type IndexProjection = { type: 'ALL' } | { type: 'INCLUDE'; attributes: readonly string[] };

/** The jobs read whole promotions from it (the sweep plans from the item as the index gives it). */
export const DUE_INDEX = {
  indexName: 'due',
  partitionKey: 'due_pk',
  sortKey: 'due_sk',
  projection: { type: 'ALL' },
} as const;
/** Merchants whose live-room carts carry third-party products: the audience of cart policies. */
export const AUDIENCE_INDEX = {
  indexName: 'audience',
  partitionKey: 'aud_pk',
  sortKey: 'aud_sk',
  projection: { type: 'ALL' },
} as const;
/**
 * Every recorded merchant by its onboarding date (the profile's own `onboardedOn`, so a corrected T
 * moves the entry): how a program announced later finds its merchants without a Scan. It copies
 * only what eligibility and an enrolment's plan need (about 150 bytes an entry).
 */
export const ONBOARDED_INDEX = {
  indexName: 'onboarded',
  partitionKey: 'onb_pk',
  sortKey: 'onboardedOn',
  projection: {
    type: 'INCLUDE',
    attributes: ['merchantId', 'onboardedAt', 'categories', 'liveCartSources', 'version'],
  },
} as const;
export const GLOBAL_INDEXES = [DUE_INDEX, AUDIENCE_INDEX, ONBOARDED_INDEX] as const;
