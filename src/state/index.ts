// src/state/index.ts
// Persistent state, in one place: where it lives (paths), our keys, the pinned peer keys, the
// packet counter, plain-peer marks, peer charsets and the launcher's code caches. Every file is written through
// one atomic-write helper (temporary file, then rename), except the packet counter, which writes
// in place under its lock (packet-counter.ts says why). Parsing and making keys is crypto/'s; only
// the files are here.
//
// paths(env, platform?) → { configFile, keyDir, stateDir, cacheDir }   per platform; XDG_* wins
// writeFileAtomic(file, data, { mode?, dirMode?, fsync?, exclusive? }) → boolean
// loadOwnKeys(dir, { legacy?, generate? }) → Promise<LoadedKeys>   rsa2048.pem (+ rsa1024.pem)
// KnownPeers.open(dir, { now? }) → check / remember / trust / forget / get / list
// FilePacketCounter(path, clock, warn) / MemoryPacketCounter(clock): PacketNumberSource
// FilePlainPeers(stateDir, now?) → has / add / delete / flush
// FilePeerCharsets(stateDir, now?) → get / set / flush
// writePeerNames(cacheDir, names) / readPeerNames(cacheDir)   names `list` heard, for completion

import atomicWrite from './atomic-write.cjs';
import statePaths from './paths.cjs';

export const { writeFileAtomic } = atomicWrite;
export const { paths } = statePaths;
export type Paths = statePaths.Paths;
export type AtomicWriteOptions = atomicWrite.AtomicWriteOptions;
export * from './own-keys.js';
export * from './known-peers.js';
export * from './packet-counter.js';
export * from './plain-peers.js';
export * from './peer-charsets.js';
export * from './peer-names.js';
