// Keeps DynamoDB Local from outliving the process that started it (docs/decisions.md, "The embedded
// JVM's lifetime"). Plain JavaScript run by `node` itself, so that it starts in a few milliseconds.
//
//   node jvm-guard.mjs <command> [args…]
//
// Starts the command (the JVM), writes its pid to stdout, and passes its stderr on.
// stdin is a pipe from the owner: when it closes (the owner exited, even by SIGKILL), the guard kills
// the JVM with SIGKILL and exits. When the JVM exits, so does the guard. SIGTERM is passed on to the JVM.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const jvm = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
jvm.once('error', (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(127);
});
jvm.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
if (jvm.pid !== undefined) process.stdout.write(`${jvm.pid}\n`);

const killJvm = () => {
  jvm.kill('SIGKILL');
  process.exit(137);
};
process.stdin.on('data', () => {}); // nothing is ever sent: the pipe is only watched for its end
process.stdin.once('end', killJvm);
process.stdin.once('error', killJvm);
process.stdout.on('error', killJvm); // the owner is gone already
process.on('SIGTERM', () => jvm.kill('SIGTERM'));
process.on('SIGINT', () => {}); // Ctrl-C reaches the JVM and the owner too; the owner decides
