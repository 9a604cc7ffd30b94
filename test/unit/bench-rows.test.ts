// The benchmark's goal rows and the README table regenerated from its results.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atLeast, atMost, regenerateReadme, rowLine } from '../bench/rows';

describe('goal rows', () => {
  it('meet their goal on the right side of it, and print their ratio', () => {
    expect(atLeast('a', 'x', 0.86, 0.85).ok).toBe(true);
    expect(atLeast('a', 'x', 0.84, 0.85).ok).toBe(false);
    expect(atMost('b', 'y', 1.2, 1, '≤ 20 s').ok).toBe(false);
    expect(rowLine(atMost('npm start', '24.0 s', 1.2, 1, '≤ 20 s'))).toBe(
      'MISSED npm start: 24.0 s; goal ≤ 20 s; ratio 1.20',
    );
  });
});

describe('the README table', () => {
  it('is replaced between its markers only, from the results file, the same each time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-rows-'));
    const readme = join(dir, 'README.md');
    const results = join(dir, 'latest.json');
    const begin = '<!-- bench:begin (regenerated from bench-results/latest.json by npm run bench) -->';
    writeFileSync(readme, `# Title\n\nbefore\n\n${begin}\nold table\n<!-- bench:end -->\n\nafter\n`);
    writeFileSync(
      results,
      JSON.stringify({
        measuredAt: '2026-12-02T16:00:00.000Z',
        machine: { cores: 2, model: 'AMD EPYC', memoryGiB: 24, node: 'v20.20.2' },
        rows: [atLeast('activate, 10,000 due on one day', '900/s against 1,000/s', 0.9, 0.85)],
      }),
    );
    regenerateReadme(readme, results);
    const once = readFileSync(readme, 'utf8');
    expect(once).not.toContain('old table');
    expect(once).toMatch(/^# Title\n\nbefore\n\n<!-- bench:begin/);
    expect(once).toMatch(/<!-- bench:end -->\n\nafter\n$/);
    expect(once).toMatch(
      /\| activate, 10,000 due on one day \| 900\/s against 1,000\/s \| ≥ 0\.85 +\| 0\.90 +\| ok +\|/,
    );
    regenerateReadme(readme, results);
    expect(readFileSync(readme, 'utf8')).toBe(once);
  });

  it('refuses a README without the markers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-rows-'));
    writeFileSync(join(dir, 'README.md'), '# no markers\n');
    writeFileSync(join(dir, 'latest.json'), '{}');
    expect(() => regenerateReadme(join(dir, 'README.md'), join(dir, 'latest.json'))).toThrow(
      /no bench markers/,
    );
  });
});
