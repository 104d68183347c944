// src/cli/main.ts
// The process entry. `--version` is answered before anything else is loaded (scripts call the
// tool in loops); everything else is one dynamic import of the program.

import { createRequire } from 'node:module';

const argv = process.argv.slice(2);
// dist/cli/main.js and the bundle's dist/bundle/main.js both sit two levels below the package.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  const { runProcess } = await import('./program.js');
  await runProcess(argv, version);
}
