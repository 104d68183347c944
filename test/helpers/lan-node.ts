// test/helpers/lan-node.ts
// Messengers on the fake LAN with the fake clock: one call opens a peer at an address, with its
// warnings, notices, delivered messages and packet numbers recorded.

import { Messenger, type MessageHandler, type MessengerOptions, type ReceivedMessage } from '../../src/messenger/index.js';
import type { Identity } from '../../src/messenger/packets.js';
import type { Destination } from '../../src/messenger/target.js';
import { type PacketNo, asPacketNo } from '../../src/protocol/packet-no.js';
import type { PacketNumberSource } from '../../src/state/packet-counter.js';
import type { FakeClock } from './fake-clock.js';
import type { FakeLan } from './fake-lan.js';

export const PORT = 2425;

/** Hands out base, base+1, … and remembers what it handed out. */
export class RecordingCounter implements PacketNumberSource {
  readonly issued: PacketNo[] = [];
  #next: number;

  constructor(base: number) {
    this.#next = base;
  }

  next(): PacketNo {
    const value = asPacketNo(this.#next++);
    this.issued.push(value);
    return value;
  }
}

export interface LanNode {
  readonly address: string;
  readonly messenger: Messenger;
  readonly identity: Identity;
  readonly counter: RecordingCounter;
  readonly warnings: string[];
  readonly notices: string[];
  /** Messages handed to the default handler (it accepts everything). */
  readonly inbox: ReceivedMessage[];
  /** Replace to refuse senders. */
  accepts: MessageHandler['accepts'];
  /** This node as a send destination. */
  readonly destination: Destination;
}

export interface NodeOptions {
  readonly identity?: Partial<Identity>;
  readonly counterBase?: number;
  /** No message handler installed (messages become notices). */
  readonly noHandler?: boolean;
  readonly overrides?: Partial<MessengerOptions>;
}

export async function openNode(lan: FakeLan, clock: FakeClock, address: string, options: NodeOptions = {}): Promise<LanNode> {
  lan.addHost(address);
  const last = address.split('.').at(-1) ?? '0';
  const identity: Identity = {
    user: `user${last}`,
    host: `pc${last}`,
    nick: `Nick ${last}`,
    group: 'lab',
    ...options.identity,
  };
  const counter = new RecordingCounter(options.counterBase ?? Number(last) * 1_000_000);
  const warnings: string[] = [];
  const notices: string[] = [];
  const inbox: ReceivedMessage[] = [];
  const messenger = await Messenger.open({
    identity,
    port: PORT,
    bind: undefined,
    portFallback: false,
    broadcast: [],
    charset: undefined,
    fallbackCharset: 'gb18030',
    lossy: false,
    clientVersion: `test client ${address} Ver1.0`,
    clock,
    packetNumbers: counter,
    onWarning: (m) => warnings.push(m),
    onNotice: (m) => notices.push(m),
    bindSocket: lan.bindSocket(address),
    interfaces: lan.interfaces(address),
    ...options.overrides,
  });
  const node: LanNode = {
    address,
    messenger,
    identity,
    counter,
    warnings,
    notices,
    inbox,
    accepts: () => true,
    destination: { text: address, address, port: PORT },
  };
  if (!options.noHandler) {
    messenger.handler = {
      accepts: (packet, from) => node.accepts(packet, from),
      deliver: (message) => inbox.push(message),
    };
  }
  return node;
}
