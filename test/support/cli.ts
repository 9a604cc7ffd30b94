import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON value, or as JSON Lines. */
  json: unknown[];
}

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

/** Runs the CLI as an operator would (`npm run --silent jobs -- …` runs exactly this). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, ['shared/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: undefined, ...env },
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
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr, json: parseJson(stdout) }));
  });
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
  const { main } = await import('../../shared/cli/main');
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
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', ['run', '--silent', 'jobs', '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
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
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr, json: parseJson(stdout) }));
  });
}
