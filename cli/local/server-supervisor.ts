// The supervisor of a home's DynamoDB Local (cli/local/local-server.ts starts it, detached):
//
//   node [--import tsx] server-supervisor.(ts|mjs) <home> <token> <idleSeconds>
//
// Starts the JVM through jvm-guard.mjs (so the JVM dies if this process is killed, even by SIGKILL),
// writes <home>/local-server.json once it answers, then watches. It stops the JVM and removes the
// record when no command has touched <home>/local-server.used for <idleSeconds> (checked again under
// the home's server lock, so a command that has just found the record is never left without its
// server); on SIGTERM or SIGINT (`local stop`, or a command replacing it) it stops the JVM and exits;
// if the JVM dies it removes the record (if still its own) and exits. Its output is
// <home>/local-server.log.
import { DateTime } from 'luxon';
import type { Log } from '../../shared/deps';
import { formatInstant } from '../../shared/time';
import { startDynamoDbLocal } from './dynamodb-local';
import {
  lastUsed,
  lockServer,
  processIdentity,
  readServerRecord,
  removeServerRecord,
  serverFiles,
  writeServerRecord,
} from './local-server';

const [home, token, idleText] = process.argv.slice(2) as [string, string, string];
const idleMs = Number(idleText) * 1000;
const files = serverFiles(home);
const say = (line: string) => process.stderr.write(`${formatInstant(DateTime.now())} ${line}\n`);
const log: Log = { info: say, warn: say, error: say };

const local = await startDynamoDbLocal({ dbPath: files.dbPath, log, handleSignals: false });
const port = Number(new URL(local.endpoint).port);
const started = DateTime.now();
writeServerRecord(home, {
  pid: local.pid as number,
  pidStarted: processIdentity(local.pid as number) ?? '',
  supervisorPid: process.pid,
  supervisorStarted: processIdentity(process.pid) ?? '',
  port,
  endpoint: local.endpoint,
  dbPath: files.dbPath,
  started: formatInstant(started),
  idleSeconds: idleMs / 1000,
  token,
});
say(
  `DynamoDB Local (process ${local.pid}) serves ${files.dbPath} at ${local.endpoint}; idle timeout ${idleMs / 1000} s`,
);

let finishing = false; // stopping for good
let checking = false; // an idle check is running
let watch: NodeJS.Timeout | undefined;
async function finish(why: string, code: number, removeRecord: 'under lock' | 'no'): Promise<void> {
  if (finishing) return;
  finishing = true;
  clearInterval(watch);
  say(why);
  if (removeRecord === 'under lock') {
    const lock = await lockServer(home, `stopping the DynamoDB Local of ${home}`, log);
    try {
      removeServerRecord(home, token);
      await local.stop();
    } finally {
      lock.release();
    }
  } else {
    await local.stop();
  }
  process.exit(code);
}

// Whoever sends SIGTERM (`local stop`, a command replacing this server) holds the lock and sees to the record.
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => {
    if (finishing) process.exit(0); // already stopping (its exit hook kills a JVM still there)
    void finish(`stopping: ${signal}`, 0, 'no');
  });

local.exited.then(() => {
  void finish('DynamoDB Local exited by itself', 1, 'under lock');
});

// From the last use, or from now if it was before this server was ready (its start took a while).
const idleFor = () => Date.now() - Math.max(lastUsed(home) ?? 0, started.toMillis());
watch = setInterval(
  async () => {
    if (finishing || checking) return;
    if (readServerRecord(home)?.token !== token) {
      // The record names another server (or none): this one is not to be used any more.
      void finish('stopping: the home no longer records this server', 0, 'no');
      return;
    }
    if (idleFor() < idleMs) return;
    checking = true;
    const lock = await lockServer(home, `stopping the idle DynamoDB Local of ${home}`, log);
    try {
      // Checked again under the lock: a command that took it before us has touched the file.
      if (finishing || idleFor() < idleMs || readServerRecord(home)?.token !== token) return;
      finishing = true;
      clearInterval(watch);
      say(`stopping: no command used it for ${Math.round(idleFor() / 1000)} s`);
      removeServerRecord(home, token);
      await local.stop();
    } finally {
      lock.release();
      checking = false;
    }
    if (finishing) process.exit(0);
  },
  Math.max(200, Math.min(idleMs / 4, 10_000)),
);
