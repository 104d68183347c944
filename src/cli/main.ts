// src/cli/main.ts
// The entry of the bundle (scripts/bundle.js → dist/bundle/ipmsg.cjs, run by dist/cli/launch.cjs).

import { readFileSync } from 'node:fs';

// dist/cli/main.js and the bundle dist/bundle/ipmsg.cjs both sit two levels below the package.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

void import('./program.js').then(({ runProcess }) => runProcess(process.argv.slice(2), version));
