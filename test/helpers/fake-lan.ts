// test/helpers/fake-lan.ts
// An in-memory LAN of DatagramSockets keyed by (address, port): asynchronous delivery, broadcast
// (looping back to the sender, as real broadcast does), drop/duplicate hooks, and a recorder of
// every datagram sent.

import type { NetworkInterfaceInfo } from 'node:os';
import { IpmsgError } from '../../src/errors.js';
import { type Packet, decodePacket } from '../../src/protocol/packet.js';
import { type InterfaceTable, intToIpv4, ipv4ToInt } from '../../src/transport/broadcast.js';
import type { BindOptions, BoundSocket, DatagramSocket, RemoteAddress } from '../../src/transport/datagram.js';

const LIMITED_BROADCAST = '255.255.255.255';
const FIRST_EPHEMERAL_PORT = 49152;

/** One datagram as a sender handed it to the LAN. */
export interface SentDatagram {
  /** Position in `lan.sent`. */
  readonly index: number;
  readonly from: RemoteAddress;
  readonly to: RemoteAddress;
  readonly bytes: Uint8Array;
  /** The LAN clock's time when it was sent (undefined without a clock). */
  readonly at: number | undefined;
}

/** One copy of a datagram on its way to one receiving socket. */
export interface Delivery extends SentDatagram {
  readonly receiver: RemoteAddress;
}

interface Host {
  readonly address: string;
  readonly netmask: string;
  readonly broadcast: string;
}

function directedBroadcast(address: string, netmask: string): string {
  const a = ipv4ToInt(address);
  const m = ipv4ToInt(netmask);
  if (a === undefined || m === undefined) throw new Error(`bad fake host ${address}/${netmask}`);
  return intToIpv4((a | ~m) >>> 0);
}

function key(address: string, port: number): string {
  return `${address}:${port}`;
}

export class FakeSocket implements DatagramSocket {
  readonly address: string;
  readonly port: number;
  closed = false;
  readonly #lan: FakeLan;
  readonly #messageHandlers: ((bytes: Uint8Array, from: RemoteAddress) => void)[] = [];
  readonly #errorHandlers: ((error: Error) => void)[] = [];

  constructor(lan: FakeLan, address: string, port: number) {
    this.#lan = lan;
    this.address = address;
    this.port = port;
  }

  send(bytes: Uint8Array, to: RemoteAddress): Promise<void> {
    if (this.closed) return Promise.reject(new Error('Not running (socket is closed)'));
    return this.#lan.transmit(this, bytes, to);
  }

  onMessage(handler: (bytes: Uint8Array, from: RemoteAddress) => void): void {
    this.#messageHandlers.push(handler);
  }

  onError(handler: (error: Error) => void): void {
    this.#errorHandlers.push(handler);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.#lan.unbind(this);
    }
    return Promise.resolve();
  }

  /** Hands a datagram to the message handlers (the LAN calls it asynchronously). */
  receive(bytes: Uint8Array, from: RemoteAddress): void {
    if (this.closed) return;
    for (const handler of this.#messageHandlers) handler(Buffer.from(bytes), { ...from });
  }

  /** Raises a socket error, as node:dgram's 'error' event would. */
  fail(error: Error): void {
    for (const handler of this.#errorHandlers) handler(error);
  }
}

export class FakeLan {
  /** Every datagram sent, in order, whether delivered, dropped or unroutable. */
  readonly sent: SentDatagram[] = [];
  /** Every copy handed to a receiving socket. */
  readonly delivered: Delivery[] = [];
  /** Decides per copy whether it is lost. */
  drop: ((delivery: Delivery) => boolean) | undefined;
  /** Decides per copy whether it arrives twice. */
  duplicate: ((delivery: Delivery) => boolean) | undefined;
  /** Makes `send` fail (as an unreachable network would) when it returns an error. */
  sendError: ((datagram: SentDatagram) => Error | undefined) | undefined;

  readonly #hosts = new Map<string, Host>();
  readonly #sockets = new Map<string, FakeSocket>();
  #nextPort = FIRST_EPHEMERAL_PORT;
  #inFlight = 0;
  readonly #clock: { now(): number } | undefined;

  /** With a clock, every recorded datagram says when it was sent. */
  constructor(clock?: { now(): number }) {
    this.#clock = clock;
  }

  /** Adds a machine to the LAN (default netmask /24). */
  addHost(address: string, netmask = '255.255.255.0'): void {
    this.#hosts.set(address, { address, netmask, broadcast: directedBroadcast(address, netmask) });
  }

  /** A fake `os.networkInterfaces()` table for a host: loopback plus one Ethernet interface. */
  interfaces(address: string): InterfaceTable {
    const host = this.#hosts.get(address);
    const netmask = host?.netmask ?? '255.255.255.0';
    const prefix = (ipv4ToInt(netmask) ?? 0).toString(2).replace(/0+$/, '').length;
    const lo: NetworkInterfaceInfo = {
      address: '127.0.0.1',
      netmask: '255.0.0.0',
      family: 'IPv4',
      mac: '00:00:00:00:00:00',
      internal: true,
      cidr: '127.0.0.1/8',
    };
    const eth: NetworkInterfaceInfo = {
      address,
      netmask,
      family: 'IPv4',
      mac: '02:00:00:00:00:01',
      internal: false,
      cidr: `${address}/${prefix}`,
    };
    return { lo: [lo], eth0: [eth] };
  }

  /** Opens a socket directly (a raw peer in tests); port 0 picks a free one. */
  open(address: string, port = 0): FakeSocket {
    if (!this.#hosts.has(address)) this.addHost(address);
    const wanted = port === 0 ? this.#freePort(address) : port;
    if (this.#sockets.has(key(address, wanted))) {
      throw Object.assign(new Error(`bind EADDRINUSE ${address}:${wanted}`), { code: 'EADDRINUSE' });
    }
    const socket = new FakeSocket(this, address, wanted);
    this.#sockets.set(key(address, wanted), socket);
    return socket;
  }

  /**
   * A `MessengerOptions.bindSocket` for a machine at `address`: binds there (or at the address the
   * options ask for), falls back to a free port when asked to, like `bindUdp`.
   */
  bindSocket(address: string): (options: BindOptions) => Promise<BoundSocket> {
    return async (options) => {
      const local = options.address ?? address;
      try {
        return { socket: this.open(local, options.port) };
      } catch (error) {
        if (!options.fallback || options.port === 0) {
          throw new IpmsgError('IPMSG_ERR_UNAVAILABLE', `Cannot bind UDP ${local}:${options.port}: the port is in use`, {
            cause: error,
          });
        }
        return { socket: this.open(local, 0), fellBackFrom: options.port };
      }
    };
  }

  socket(address: string, port: number): FakeSocket | undefined {
    return this.#sockets.get(key(address, port));
  }

  unbind(socket: FakeSocket): void {
    if (this.#sockets.get(key(socket.address, socket.port)) === socket) this.#sockets.delete(key(socket.address, socket.port));
  }

  #freePort(address: string): number {
    while (this.#sockets.has(key(address, this.#nextPort))) this.#nextPort++;
    return this.#nextPort++;
  }

  /** The sockets a datagram to `to` reaches: broadcast loops back to the sender too. */
  #receivers(to: RemoteAddress): FakeSocket[] {
    const all = [...this.#sockets.values()].filter((s) => s.port === to.port);
    if (to.address === LIMITED_BROADCAST) return all;
    const directed = all.filter((s) => this.#hosts.get(s.address)?.broadcast === to.address);
    if (directed.length > 0) return directed;
    const unicast = this.#sockets.get(key(to.address, to.port));
    return unicast ? [unicast] : [];
  }

  transmit(sender: FakeSocket, bytes: Uint8Array, to: RemoteAddress): Promise<void> {
    const datagram: SentDatagram = {
      index: this.sent.length,
      from: { address: sender.address, port: sender.port },
      to: { address: to.address, port: to.port },
      bytes: Uint8Array.from(bytes),
      at: this.#clock?.now(),
    };
    this.sent.push(datagram);
    const error = this.sendError?.(datagram);
    if (error) return Promise.reject(error);
    for (const socket of this.#receivers(to)) {
      const delivery: Delivery = { ...datagram, receiver: { address: socket.address, port: socket.port } };
      if (this.drop?.(delivery)) continue;
      const copies = this.duplicate?.(delivery) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        this.#inFlight++;
        setImmediate(() => {
          this.#inFlight--;
          if (socket.closed) return;
          this.delivered.push(delivery);
          socket.receive(delivery.bytes, delivery.from);
        });
      }
    }
    return Promise.resolve();
  }

  /** Datagrams still on the wire. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Waits until nothing is on the wire and promise callbacks have run (replies to replies too). */
  async settle(maxRounds = 1000): Promise<void> {
    let quiet = 0;
    for (let i = 0; i < maxRounds && quiet < 3; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = this.#inFlight === 0 ? quiet + 1 : 0;
    }
  }

  /** The sent datagrams decoded (undefined packet for ones that do not decode). */
  packets(filter?: (d: SentDatagram) => boolean): DecodedDatagram[] {
    return this.sent.filter((d) => !filter || filter(d)).map((d) => ({ ...d, packet: tryDecode(d.bytes) }));
  }
}

export interface DecodedDatagram extends SentDatagram {
  readonly packet: Packet | undefined;
}

export function tryDecode(bytes: Uint8Array): Packet | undefined {
  try {
    return decodePacket(bytes, { fallbackCharset: 'utf-8' });
  } catch {
    return undefined;
  }
}

/** Decodes a datagram that must be a valid packet. */
export function decode(bytes: Uint8Array): Packet {
  return decodePacket(bytes, { fallbackCharset: 'utf-8' });
}
