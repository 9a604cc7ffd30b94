// The table's shape, shared by the CDK stack and by the local bootstrap (cli/local/table.ts) so the
// two cannot drift.
export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const DUE_INDEX = { indexName: 'due', partitionKey: 'due_pk', sortKey: 'due_sk' } as const;
/** Merchants whose live-room carts carry third-party products: the audience of cart policies. */
export const AUDIENCE_INDEX = { indexName: 'audience', partitionKey: 'aud_pk', sortKey: 'aud_sk' } as const;
export const GLOBAL_INDEXES = [DUE_INDEX, AUDIENCE_INDEX] as const;
