// A missed place fails to compile: the type checker, run in-process over the Lambda and CLI code with
// one source file edited in memory, names exactly the files that must handle a new value.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), undefined, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  },
}) as ts.ParsedCommandLine;
/** What handles values: the code the Lambdas and the CLI run (the tests and the stack only use them). */
const rootNames = config.fileNames.filter((f) => /^(shared|cli|functions)\//.test(relative(ROOT, f)));

/** Unchanged files are parsed once for all the checks. */
const parsed = new Map<string, ts.SourceFile>();

/** The errors, by file, after replacing `from` (which must occur exactly once) by `to` in `file`. */
function errorsAfter(file: string, from: string, to: string): Record<string, string[]> {
  const path = join(ROOT, file);
  const source = readFileSync(path, 'utf8');
  expect(source.split(from), `${file} holds the text to edit exactly once`).toHaveLength(2);
  const edited = source.replace(from, to);
  const host = ts.createCompilerHost(config.options);
  const parse = host.getSourceFile;
  host.getSourceFile = (name, language, ...rest) => {
    if (name === path) return ts.createSourceFile(name, edited, language);
    let hit = parsed.get(name);
    if (!hit) {
      hit = parse.call(host, name, language, ...rest);
      if (hit) parsed.set(name, hit);
    }
    return hit;
  };
  const program = ts.createProgram({ rootNames, options: config.options, host });
  const errors: Record<string, string[]> = {};
  for (const d of [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()]) {
    const where = d.file ? relative(ROOT, d.file.fileName) : '(global)';
    errors[where] = [...(errors[where] ?? []), ts.flattenDiagnosticMessageText(d.messageText, ' ')];
  }
  return errors;
}

/** Asserts that exactly these files fail, each at least once because of `added`. */
function expectFailing(errors: Record<string, string[]>, added: string, files: string[]): void {
  const report = JSON.stringify(errors, null, 1);
  expect(Object.keys(errors).sort(), report).toEqual([...files].sort());
  for (const messages of Object.values(errors)) {
    expect(
      messages.some((m) => m.includes(`'${added}'`)),
      report,
    ).toBe(true);
  }
}

describe('a new value fails to compile wherever it is not handled', () => {
  it('a third cart-policy value: its text for merchants', () => {
    const errors = errorsAfter(
      'shared/policies/policy.ts',
      "['ALLOWED', 'XINGTU_ONLY', 'BLOCKED'] as const",
      "['ALLOWED', 'XINGTU_ONLY', 'SHOP_ONLY', 'BLOCKED'] as const",
    );
    expectFailing(errors, 'SHOP_ONLY', ['shared/notices/notice.ts']);
  });

  it('a third kind of policy: its rule in the calendar job, its notice types, its help and stderr texts', () => {
    const errors = errorsAfter(
      'shared/policies/policy.ts',
      "['CART', 'XINGTU_FEE'] as const",
      "['CART', 'XINGTU_FEE', 'PROGRAM_FEE'] as const",
    );
    expectFailing(errors, 'PROGRAM_FEE', [
      'cli/policies-command.ts',
      'shared/jobs/cart-policies.ts',
      'shared/notices/notice.ts',
    ]);
  });

  it('a new fee base: its option in xingtu-fee and its text for merchants', () => {
    const errors = errorsAfter(
      'shared/policies/policy.ts',
      "['GMV', 'STREAMER_FIXED_FEE', 'TASK_AMOUNT'] as const",
      "['GMV', 'STREAMER_FIXED_FEE', 'TASK_AMOUNT', 'PROFIT'] as const",
    );
    expectFailing(errors, 'PROFIT', ['cli/xingtu-fee-command.ts', 'shared/notices/notice.ts']);
  });

  it('a new notice type: its data, and its colour in the report chart', () => {
    const errors = errorsAfter(
      'shared/notices/notice.ts',
      "  'XINGTU_FEE_WITHDRAWN',\n] as const;",
      "  'XINGTU_FEE_WITHDRAWN',\n  'PROMOTION_EXTENDED',\n] as const;",
    );
    expectFailing(errors, 'PROMOTION_EXTENDED', ['cli/report/chart.ts', 'shared/notices/notice.ts']);
  });
});

describe('a new scheduled job fails to compile until it is complete', () => {
  const ENTRIES_END = '} satisfies Record<string, JobDefinition>;';
  const entry = (fields: string) =>
    `  'nightly-report': {\n    schedule: daily(3, 30),\n    summary: 'a report',\n${fields}  },\n${ENTRIES_END}`;
  const complete =
    '    reads: [DUE_INDEX.indexName],\n    run: async () => {},\n    grants: [],\n    overdue: async () => 0,\n';

  it('an entry without its overdue rule: the registry says so, and nothing else fails', () => {
    const errors = errorsAfter(
      'shared/jobs/registry.ts',
      ENTRIES_END,
      entry(complete.replace('    overdue: async () => 0,\n', '')),
    );
    expectFailing(errors, 'overdue', ['shared/jobs/registry.ts']);
  });

  it('a complete entry compiles everywhere', () => {
    expect(errorsAfter('shared/jobs/registry.ts', ENTRIES_END, entry(complete))).toEqual({});
  });

  it('a handler for a job that is not in the registry', () => {
    const errors = errorsAfter(
      'functions/expire/handler.ts',
      "createJobHandler('expire')",
      "createJobHandler('nightly-report')",
    );
    expectFailing(errors, '"nightly-report"', ['functions/expire/handler.ts']);
  });
});
