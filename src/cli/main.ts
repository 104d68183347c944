// src/cli/main.ts
// The process entry: signals, EPIPE, and the exit status of run(). `--version` is answered before
// anything else is loaded, since scripts call the tool in loops.

import { createRequire } from 'node:module';
import { IpmsgError } from '../errors.js';

const argv = process.argv.slice(2);

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  process.stdout.write(`${version}\n`);
} else {
  const { run } = await import('./program.js');
  const { processContext } = await import('./context.js');
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
  process.exitCode = await run(argv, processContext(controller.signal));
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
}
