// `--output table`: aligned columns people can read, and the option validated like every other.
import { describe, expect, it } from 'vitest';
import { outputFormatOf } from '../../cli/framework';
import { renderTable } from '../../cli/table-output';
import { InputError } from '../../shared/errors';

/** Where each column starts on a line: after the two spaces that separate columns. */
const columnStarts = (line: string) =>
  [...line.matchAll(/(?:^| {2})(?=\S)/g)].map((m) => m.index + (m.index ? 2 : 0));

describe('renderTable', () => {
  const rows = [
    { job: 'activate', asOf: '2020-05-08T00:00:00.000+08:00', changed: 12, complete: true },
    { job: 'expire', asOf: '2020-06-06T00:05:00.000+08:00', changed: 0, complete: false },
  ];

  it('prints a header of the fields and one aligned line per row', () => {
    const lines = renderTable(rows).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]?.split(/\s+/)).toEqual(['job', 'asOf', 'changed', 'complete']);
    const starts = lines.map(columnStarts);
    expect(starts[1]).toEqual(starts[0]);
    expect(starts[2]).toEqual(starts[0]);
    expect(lines[2]).toMatch(/^expire\s+2020-06-06T00:05:00.000\+08:00\s+0\s+false$/);
  });

  it('shows the columns the command chose, in its order, and fields missing from a row as blanks', () => {
    const text = renderTable([{ a: 1, b: 2 }, { b: 3 }], ['b', 'a']);
    expect(text.split('\n')[0]).toMatch(/^b\s+a$/);
    expect(text.split('\n')[2]).toBe('3');
  });

  it('joins lists, shows objects as JSON, cuts long cells and keeps each row on one line', () => {
    const text = renderTable([
      { tags: ['x', 'y'], scope: { categories: 'ALL' }, note: `${'n'.repeat(80)}\nmore` },
    ]);
    const row = text.trimEnd().split('\n')[1] ?? '';
    expect(row).toContain('x,y');
    expect(row).toContain('{"categories":"ALL"}');
    expect(row).toContain(`${'n'.repeat(47)}…`);
    expect(row).not.toContain('more');
  });

  it('shows one object as a table of its fields, and nothing at all for no rows', () => {
    expect(renderTable({ stopped: true, pid: 42 }).trimEnd().split('\n')).toEqual([
      'stopped  true',
      'pid      42',
    ]);
    expect(renderTable([])).toBe('');
  });
});

describe('--output', () => {
  it('is json unless table is asked for, and refuses anything else naming the option', () => {
    expect(outputFormatOf({})).toBe('json');
    expect(outputFormatOf({ output: 'table' })).toBe('table');
    expect(() => outputFormatOf({ output: 'yaml' })).toThrow(InputError);
    expect(() => outputFormatOf({ output: 'yaml' })).toThrow('--output: must be json or table (got yaml)');
  });
});
