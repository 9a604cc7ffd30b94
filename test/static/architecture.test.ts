// The layers of docs/architecture.md, checked on the source: what each folder may import, and where
// table commands may be built. A rule broken here is a design change to make on purpose, in the doc too.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|mjs)$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** Every module a file imports, relative ones resolved to repository paths (without extension). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/g)].map(([, spec]) =>
    spec?.startsWith('.') ? relative(ROOT, resolve(ROOT, file, '..', spec)) : (spec as string),
  );
}

function offenders(folder: string, forbidden: (imported: string) => boolean): string[] {
  return sourceFiles(folder).flatMap((file) =>
    importsOf(file)
      .filter(forbidden)
      .map((imported) => `${file} imports ${imported}`),
  );
}

describe('layers', () => {
  it('shared/ (what Lambda runs) imports nothing from cli/, infra/, functions/ or test/', () => {
    expect(offenders('shared', (m) => /^(cli|infra|functions|test)\//.test(m))).toEqual([]);
  });

  it('the promotion rules import neither the store nor an AWS SDK', () => {
    expect(
      offenders('shared/promotion', (m) => m.startsWith('shared/store') || m.startsWith('@aws-sdk')),
    ).toEqual([]);
  });

  it('the policy and notice rules import no AWS SDK', () => {
    const rules = ['shared/policies/policy.ts', 'shared/notices/notice.ts'];
    const found = rules.flatMap((file) => importsOf(file).filter((m) => m.startsWith('@aws-sdk')));
    expect(found).toEqual([]);
  });

  it('only shared/store/ builds DynamoDB table commands, or their expressions', () => {
    const tableCommand =
      /\bnew (Get|Put|Update|Delete|Query|Scan|BatchGet|BatchWrite|TransactWrite|TransactGet)(Item)?Command\(|\bpaginate(Query|Scan)\(|\b(Key)?ConditionExpression\b|\bUpdateExpression\b|\bExpressionAttribute(Names|Values)\b/;
    const building = ['shared', 'cli', 'functions']
      .flatMap(sourceFiles)
      .filter((file) => !file.startsWith('shared/store/'))
      .filter((file) => tableCommand.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(building).toEqual([]);
  });

  it('shared/ holds only what the Lambdas run: every file is reached from a handler', () => {
    const shared = new Set(sourceFiles('shared'));
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const imported of importsOf(file)) {
        const source = [`${imported}.ts`, imported].find((path) => shared.has(path));
        if (source) visit(source);
      }
    };
    for (const handler of sourceFiles('functions')) visit(handler);
    expect([...shared].filter((file) => !reached.has(file))).toEqual([]);
  });

  it('cli/ reads of infra/ only the deployed names (infra/job-deployment.ts), which import no CDK', () => {
    expect(offenders('cli', (m) => m.startsWith('infra/') && m !== 'infra/job-deployment')).toEqual([]);
    const cdk = importsOf('infra/job-deployment.ts').filter((m) =>
      /^(aws-cdk-lib|constructs|cdk-nag)/.test(m),
    );
    expect(cdk).toEqual([]);
  });

  it('functions/ are thin: each handler imports only shared/lambda', () => {
    expect(offenders('functions', (m) => !m.startsWith('shared/lambda/'))).toEqual([]);
  });
});
