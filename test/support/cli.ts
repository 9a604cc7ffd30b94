import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON value, or as JSON Lines. */
  json: unknown[];
}

const ROOT = resolve(import.meta.dirname, '../..');
export const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
/** What `npm run jobs` runs: the CLI from its bundle, built again whenever a source changed (cli/launch.mjs). */
const LAUNCHER = resolve(ROOT, 'cli/launch.mjs');

/**
 * Runs a command to its end, collecting its output. Its environment is this process's plus `env`, or
 * with `inheritEnv: false` only `env` (as a Lambda sandbox sees it).
 */
export function collect(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  options: { cwd?: string; inheritEnv?: boolean } = {},
): Promise<CliResult> {
  return start(command, args, env, options).result;
}

/** A started process, and its output once it has ended. */
export interface Started {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  result: Promise<CliResult>;
}

function start(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  options: { cwd?: string; inheritEnv?: boolean } = {},
): Started {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.inheritEnv === false ? env : { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const result = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr, json: parseJson(stdout) }));
  });
  return { child, stderr: () => stderr, result };
}

/** Runs the CLI as an operator would (`npm run --silent jobs -- …` runs exactly this, through npm). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return startCli(args, env).result;
}

/** Starts the CLI as one process (the launcher runs the bundle in its own process) without waiting for it. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): Started {
  return start(process.execPath, [LAUNCHER, ...args], { LOG_LEVEL: undefined, ...env });
}

function parseJson(text: string): unknown[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  try {
    const value = JSON.parse(trimmed);
    return Array.isArray(value) ? value : [value];
  } catch {
    try {
      return trimmed.split('\n').map((line) => JSON.parse(line));
    } catch {
      return []; // not JSON (e.g. --help text)
    }
  }
}

/**
 * Runs a CLI command in this process (the same `main` the script runs), capturing its output: the
 * commands behave the same, without paying for a new Node process per command.
 */
export async function cliInProcess(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const { main } = await import('../../cli/main');
  const status = await main(
    args,
    { ...process.env, LOG_LEVEL: undefined, ...env },
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    },
  );
  return { status, stdout, stderr, json: parseJson(stdout) };
}

/** Runs `npm run --silent jobs -- …` exactly as documented. */
export function runNpmScript(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return collect('npm', ['run', '--silent', 'jobs', '--', ...args], env);
}

/**
 * The CLI bound to a test's DynamoDB Local and table, with a home of its own, and a helper that writes
 * input files into a scratch folder.
 */
export function cliOn(db: { endpoint: string }, tableName: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cli-files-'));
  const home = mkdtempSync(join(tmpdir(), 'cli-home-'));
  return {
    home,
    cli: (...args: string[]) =>
      cliInProcess(args, { DYNAMODB_ENDPOINT: db.endpoint, TABLE_NAME: tableName, PROMO_JOBS_HOME: home }),
    file: (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    /** A path in the scratch folder that does not exist. */
    missing: (name: string) => join(dir, name),
  };
}
