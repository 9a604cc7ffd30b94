// Takes the lock named on the command line, says "held", and keeps it until killed (a lock holder
// for the tests to kill with SIGKILL).
import { silentLog } from '../../shared/deps';
import { acquireLock } from '../../shared/local/lock-file';

await acquireLock(process.argv[2] as string, { doing: 'holding it for a test', log: silentLog });
process.stdout.write('held\n');
setInterval(() => {}, 60_000);
