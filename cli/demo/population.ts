// A generated but realistic demo population: merchants onboarding from late April 2020 on, a mix of
// categories (the seed plan's among them), some selling third-party products in their live rooms, a
// few revoked for violations.
// Deterministic for a seed, so a replay can be repeated and checked.
import * as z from 'zod';
import type { MerchantRecord } from '../../shared/merchants/record';
import { LENGTH_DAYS, START_OFFSET_DAYS } from '../../shared/promotion/window';
import { addDays, type CalendarDate, formatInstant, type Instant, startOfDay } from '../../shared/time';

/** The day after onboarding on which a window ends (T+32 under rules §1). */
const WINDOW_END_DAY = START_OFFSET_DAYS + LENGTH_DAYS;

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same population everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The seed plan's six categories (rules §4: apparel, beauty, cosmetics, home, baby, pets) are a third
// of these, so about one merchant in three (onboarded from July in one of them) is in both
// programs; the others are in today's only.
export const CATEGORIES = [
  'apparel',
  'beauty',
  'cosmetics',
  'home',
  'baby',
  'pets',
  'food',
  'electronics',
  'books',
  'sports',
  'jewellery',
  'auto',
  'outdoor',
  'stationery',
  'music',
  'games',
  'flowers',
  'tea',
] as const;
const CART_MIXES: { sources: string[]; weight: number }[] = [
  { sources: ['shop'], weight: 0.6 },
  { sources: ['shop', 'taobao'], weight: 0.2 },
  { sources: ['jd', 'shop'], weight: 0.08 },
  { sources: ['taobao'], weight: 0.07 },
  { sources: [], weight: 0.05 },
];

export interface Violation {
  merchantId: string;
  at: Instant;
  reason: string;
}

export interface Population {
  records: MerchantRecord[];
  violations: Violation[];
}

export const populationOptionsSchema = z.strictObject({
  merchants: z.number().int().min(1).max(1_000_000),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  onboardFrom: z.string(),
  onboardTo: z.string(),
});
export type PopulationOptions = z.infer<typeof populationOptionsSchema>;

const VIOLATION_RATE = 0.02;
const REASONS = ['fake orders', 'counterfeit goods', 'misleading live-room claims'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** The entry whose cumulative weight first exceeds the roll (0 ≤ roll < 1). */
function weighted<T extends { weight: number }>(roll: number, entries: T[]): T {
  let rest = roll;
  for (const entry of entries) {
    rest -= entry.weight;
    if (rest < 0) return entry;
  }
  return entries[entries.length - 1] as T;
}

export function generatePopulation(options: PopulationOptions): Population {
  const random = seededRandom(options.seed);
  const span = Math.round(startOfDay(options.onboardTo).diff(startOfDay(options.onboardFrom), 'days').days);
  const records: MerchantRecord[] = [];
  const violations: Violation[] = [];
  for (let i = 0; i < options.merchants; i++) {
    const merchantId = `demo-${String(i + 1).padStart(6, '0')}`;
    // Onboarding grows over time (sqrt skews towards later days).
    const onboardedOn: CalendarDate = addDays(
      options.onboardFrom,
      Math.floor(Math.sqrt(random()) * (span + 1)),
    );
    const categories = [
      ...new Set([pick(random, CATEGORIES), ...(random() < 0.2 ? [pick(random, CATEGORIES)] : [])]),
    ].sort();
    const mix = weighted(random(), CART_MIXES);
    records.push({
      merchantId,
      onboardedAt: onboardedOn,
      categories,
      liveCartSources: [...mix.sources].sort(),
    });
    if (random() < VIOLATION_RATE) {
      // Caught somewhere between onboarding and the end of its window, at a random minute.
      const at = startOfDay(onboardedOn).plus({ minutes: Math.floor(random() * WINDOW_END_DAY * 24 * 60) });
      violations.push({ merchantId, at: formatInstant(at), reason: pick(random, REASONS) });
    }
  }
  violations.sort((a, b) => a.at.localeCompare(b.at));
  return { records, violations };
}
