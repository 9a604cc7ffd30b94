// The merchant system's events: what the recorder accepts, and how it says what is wrong.
import { describe, expect, it } from 'vitest';
import { parseMerchantEvent } from '../../shared/merchants/upstream-events';

const event = (detailType: string, detail: unknown, extra: Record<string, unknown> = {}) => ({
  version: '0',
  id: 'e-1',
  'detail-type': detailType,
  source: 'marketplace.merchants',
  account: '123456789012',
  time: '2020-05-06T02:00:00Z',
  region: 'ap-east-1',
  resources: [],
  detail,
  ...extra,
});

describe('merchant events', () => {
  it('MerchantOnboarded carries the import record (lists as sets), ordered by the event time', () => {
    expect(
      parseMerchantEvent(
        event('MerchantOnboarded', {
          merchantId: 'merchant-a',
          onboardedAt: '2020-05-06T01:30:00Z',
          liveCartSources: ['taobao', 'shop', 'shop'],
        }),
      ),
    ).toEqual({
      id: 'e-1',
      type: 'MerchantOnboarded',
      record: {
        merchantId: 'merchant-a',
        onboardedAt: '2020-05-06T09:30:00.000+08:00',
        liveCartSources: ['shop', 'taobao'],
        occurredAt: '2020-05-06T10:00:00.000+08:00', // the envelope's time
      },
    });
  });

  it('orders MerchantOnboarded by the detail’s occurredAt when it has one, else by the event’s time', () => {
    const record = (detail: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const parsed = parseMerchantEvent(event('MerchantOnboarded', detail, extra));
      return parsed.type === 'MerchantOnboarded' ? parsed.record : undefined;
    };
    const a = { merchantId: 'merchant-a', onboardedAt: '2020-05-06' };
    expect(record({ ...a, occurredAt: '2020-05-06T01:00:00Z' })?.occurredAt).toBe(
      '2020-05-06T09:00:00.000+08:00',
    );
    expect(record(a)?.occurredAt).toBe('2020-05-06T10:00:00.000+08:00');
    const untimed = record(a, { time: undefined });
    expect(untimed?.merchantId).toBe('merchant-a');
    expect(untimed?.occurredAt).toBeUndefined(); // then it is taken as "now"
  });

  it('MerchantViolation carries merchantId, the instant (normalised to +08:00) and a reason', () => {
    expect(
      parseMerchantEvent(
        event('MerchantViolation', {
          merchantId: 'merchant-a',
          at: '2020-05-20T02:00:00Z',
          reason: ' fake goods ',
        }),
      ),
    ).toEqual({
      id: 'e-1',
      type: 'MerchantViolation',
      violation: { merchantId: 'merchant-a', at: '2020-05-20T10:00:00.000+08:00', reason: 'fake goods' },
    });
  });

  it.each([
    [
      event('MerchantOnboarded', {}, { source: 'marketplace.orders' }),
      /^source: must be marketplace\.merchants$/,
    ],
    [event('MerchantDeleted', {}), /^detail-type: must be one of MerchantOnboarded, MerchantViolation$/],
    [event('MerchantOnboarded', { merchantId: 'merchant-a' }), /^detail\.onboardedAt: is required$/],
    [
      event('MerchantOnboarded', { merchantId: 'merchant-a', onboardedAt: '2020-05-06', tier: 'gold' }),
      /^detail\.tier: unknown field$/,
    ],
    [
      event('MerchantViolation', { merchantId: 'merchant-a', at: '2020-05-20 10:00', reason: 'x' }),
      /^detail\.at: must be an ISO 8601 instant with an offset/,
    ],
    [
      event('MerchantViolation', { merchantId: 'merchant-a', at: '2020-05-20T10:00:00Z', reason: ' ' }),
      /^detail\.reason: must not be empty$/,
    ],
    [event('MerchantViolation', undefined), /^detail: is required$/],
    [
      event('MerchantOnboarded', { merchantId: 'merchant-a', onboardedAt: '2020-05-06' }, { time: 'today' }),
      /^time: must be an ISO 8601 instant with an offset/,
    ],
    [
      event('MerchantOnboarded', {
        merchantId: 'merchant-a',
        onboardedAt: '2020-05-06',
        occurredAt: '2020-05-06',
      }),
      /^detail\.occurredAt: must be an ISO 8601 instant with an offset/,
    ],
    [event('MerchantOnboarded', {}, { 'detail-type': undefined }), /^detail-type: is required$/],
    ['MerchantOnboarded', /^\(input\): must be an EventBridge event object$/],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => parseMerchantEvent(input)).toThrow(message);
  });
});
