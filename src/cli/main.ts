// src/cli/main.ts
// The process entry: signals, EPIPE, and the exit status of run().

import { IpmsgError } from '../errors.js';
import { processContext } from './context.js';
import { run } from './program.js';

function main(): void {
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C does not wait for BR_EXIT
    controller.abort(new IpmsgError('IPMSG_ERR_INTERRUPTED', 'interrupted'));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0); // `ipmsg list | head`
    throw error;
  });
  void run(process.argv.slice(2), processContext(controller.signal)).then((status) => {
    process.exitCode = status;
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  });
}

main();
