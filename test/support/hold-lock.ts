// Takes the lock named on the command line, says "held", and keeps it until killed (a lock holder
// for the tests to kill with SIGKILL).

import { acquireLock } from '../../cli/local/lock-file';
import { silentLog } from '../../shared/deps';

await acquireLock(process.argv[2] as string, { doing: 'holding it for a test', log: silentLog });
process.stdout.write('held\n');
setInterval(() => {}, 60_000);
