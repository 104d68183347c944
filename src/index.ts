// src/index.ts
// The library: the protocol codecs, the crypto layer, persistent state and the messenger facade.
// No side effects.

export * from './errors.js';
export * from './protocol/command.js';
export * from './protocol/packet.js';
export * from './protocol/packet-no.js';
export * from './protocol/entry.js';
export * from './protocol/attachment.js';
export * from './protocol/host-list.js';
export * from './protocol/limits.js';
export * from './encoding/charset.js';
export * from './crypto/index.js';
export { Messenger, type MessengerOptions, type ReceivedMessage, type SendOutcome } from './messenger/index.js';
export { resolveTargets } from './messenger/resolve.js';
export { parseTarget, type Destination, type TargetSpec } from './messenger/target.js';
export type { Peer } from './messenger/peers.js';
export type { Identity } from './messenger/packets.js';
export { systemClock, type Clock } from './transport/clock.js';
export * from './state/index.js';
