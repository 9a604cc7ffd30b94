import { describe, expect, it } from 'vitest';
import { updateExpression } from '../../shared/store/conditional-write';
import { onboardedQuery } from '../../shared/store/index-reads';
import { DUE_SHARDS, dueKeyOf, duePartitionsOf, onboardedKey, shardOf } from '../../shared/store/keys';

const at = '2020-06-04T00:00:00.000+08:00';

describe('the store files what a promotion waits for under the due index key its job reads', () => {
  it('ACTIVATE in the activate partitions; REMIND and EXPIRE both in the expire ones (one job takes both)', () => {
    const shard = String(shardOf('merchant-a')).padStart(2, '0');
    expect(dueKeyOf('merchant-a', { action: 'ACTIVATE', at })).toEqual({
      due_pk: `ACTIVATE#${shard}`,
      due_sk: at,
    });
    expect(dueKeyOf('merchant-a', { action: 'REMIND', at })).toEqual({
      due_pk: `EXPIRE#${shard}`,
      due_sk: at,
    });
    expect(dueKeyOf('merchant-a', { action: 'EXPIRE', at })).toEqual({
      due_pk: `EXPIRE#${shard}`,
      due_sk: at,
    });
    expect(dueKeyOf('merchant-a', null)).toBeUndefined();
  });

  it("a job reads each of its steps' partitions once, every shard", () => {
    expect(duePartitionsOf(['REMIND', 'EXPIRE'])).toEqual(
      Array.from({ length: DUE_SHARDS }, (_, i) => `EXPIRE#${String(i).padStart(2, '0')}`),
    );
    expect(duePartitionsOf(['ACTIVATE'])).toHaveLength(DUE_SHARDS);
    expect(duePartitionsOf(['ACTIVATE'])[0]).toBe('ACTIVATE#00');
  });
});

describe('the onboarded index key and its range queries', () => {
  it("a profile's onboarded partition is its id's shard, as its promotion's due partitions are", () => {
    for (const id of ['merchant-a', 'm-1', 'x']) {
      expect(onboardedKey(id)).toEqual({ onb_pk: `ONBOARDED#${String(shardOf(id)).padStart(2, '0')}` });
    }
  });

  it('an exclusive `until` is the day before it, across a month and a year (Shanghai calendar days)', () => {
    expect(onboardedQuery('ONBOARDED#03', { from: '2020-07-01', until: '2021-01-01' })).toEqual({
      IndexName: 'onboarded',
      KeyConditionExpression: '#pk = :pk AND #on BETWEEN :from AND :lastDay',
      ExpressionAttributeNames: { '#pk': 'onb_pk', '#on': 'onboardedOn' },
      ExpressionAttributeValues: { ':pk': 'ONBOARDED#03', ':from': '2020-07-01', ':lastDay': '2020-12-31' },
    });
    expect(
      onboardedQuery('ONBOARDED#03', { from: '2020-02-01', until: '2020-03-01' }).ExpressionAttributeValues,
    ).toEqual({ ':pk': 'ONBOARDED#03', ':from': '2020-02-01', ':lastDay': '2020-02-29' });
    expect(onboardedQuery('ONBOARDED#03', { from: '2020-07-01' }).KeyConditionExpression).toBe(
      '#pk = :pk AND #on >= :from',
    );
  });
});

describe('update expressions', () => {
  it('sets, appends to lists (absent taken as empty), sets where missing, adds and removes; undefined fields stay as they are', () => {
    expect(
      updateExpression(
        {
          set: { status: 'ACTIVE', reminder: undefined },
          append: { history: [{ status: 'ACTIVE' }] },
          setIfMissing: { token: 't' },
          add: { attempts: 1 },
          remove: ['due_pk'],
        },
        {
          expression: '#c_version = :c_version',
          names: { '#c_version': 'version' },
          values: { ':c_version': 3 },
        },
      ),
    ).toEqual({
      UpdateExpression:
        'SET #u_status = :u_status, #u_token = if_not_exists(#u_token, :u_token), ' +
        '#u_history = list_append(if_not_exists(#u_history, :u_empty_list), :u_history) ' +
        'ADD #u_attempts :u_attempts REMOVE #u_due_pk',
      ConditionExpression: '#c_version = :c_version',
      ExpressionAttributeNames: {
        '#c_version': 'version',
        '#u_status': 'status',
        '#u_token': 'token',
        '#u_history': 'history',
        '#u_attempts': 'attempts',
        '#u_due_pk': 'due_pk',
      },
      ExpressionAttributeValues: {
        ':c_version': 3,
        ':u_status': 'ACTIVE',
        ':u_token': 't',
        ':u_empty_list': [],
        ':u_history': [{ status: 'ACTIVE' }],
        ':u_attempts': 1,
      },
    });
  });

  it('refuses what is not an attribute name, and an update that changes nothing', () => {
    expect(() => updateExpression({ set: { 'a.b': 1 } })).toThrow('not an attribute name for an update: a.b');
    expect(() => updateExpression({ set: { a: undefined } })).toThrow('an update must change something');
  });
});
