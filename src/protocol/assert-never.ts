// src/protocol/assert-never.ts
// The default branch of a switch over a closed union: it does not compile while a member is left out.

import { IpmsgError } from '../errors.js';

export function assertNever(value: never): never {
  throw new IpmsgError('IPMSG_ERR_INTERNAL', `Unhandled case ${JSON.stringify(value)}`);
}
