// test/helpers/udp-relay.ts
// A user-space UDP relay that duplicates, delays and so reorders datagrams (the kernel here has no
// netem). Clients send to the relay; each client gets its own upstream socket, so the server's
// answers find their way back. Run it inside a test namespace as a script:
//   node udp-relay.js --listen 10.249.0.2:2425 --to 10.249.0.3:2425 --copies 2 --delay 0-20 --seed 7
// It prints {"listening":…} when ready and its counters as one JSON line on SIGTERM, then exits.

import { type Socket, createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { Rng } from './fuzz-datagrams.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface RelayOptions {
  readonly listen: Endpoint;
  readonly target: Endpoint;
  /** Copies sent of every datagram, in both directions (1 = no duplication). */
  readonly copies: number;
  /** Each copy waits a random time in [min, max] ms before it is sent. */
  readonly delayMs: readonly [number, number];
  readonly seed: number;
}

export interface RelayStats {
  /** Datagrams received from clients and from the server. */
  received: number;
  /** Datagrams sent, copies included. */
  sent: number;
  /** Copies beyond the first. */
  duplicated: number;
  /** Datagrams sent after one that arrived later than them (same direction). */
  reordered: number;
  clients: number;
}

/** A UDP socket bound to `address:port` (0 = any free port). */
/** A UDP socket bound to `address:port`, IPv6 when the address is. */
export function bindUdpSocket(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export class UdpRelay {
  readonly stats: RelayStats = { received: 0, sent: 0, duplicated: 0, reordered: 0, clients: 0 };
  readonly #options: RelayOptions;
  readonly #rng: Rng;
  readonly #upstream = new Map<string, Promise<Socket>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Arrival number of the latest datagram sent, per direction: an older one sent after it is reordered. */
  readonly #lastSent = { up: -1, down: -1 };
  #arrivals = 0;
  #main: Socket | undefined;
  #closed = false;

  private constructor(options: RelayOptions) {
    this.#options = options;
    this.#rng = new Rng(options.seed);
  }

  static async start(options: RelayOptions): Promise<UdpRelay> {
    const relay = new UdpRelay(options);
    const main = await bindUdpSocket(options.listen.address, options.listen.port);
    relay.#main = main;
    main.on('message', (bytes, from) => relay.#fromClient(bytes, from));
    return relay;
  }

  get port(): number {
    return this.#main?.address().port ?? 0;
  }

  #forward(socket: Socket, bytes: Buffer, to: Endpoint, direction: 'up' | 'down'): void {
    this.stats.received++;
    const arrival = this.#arrivals++;
    const [min, max] = this.#options.delayMs;
    for (let copy = 0; copy < this.#options.copies; copy++) {
      const send = (): void => {
        if (this.#closed) return;
        if (arrival < this.#lastSent[direction]) this.stats.reordered++;
        else this.#lastSent[direction] = arrival;
        this.stats.sent++;
        if (copy > 0) this.stats.duplicated++;
        socket.send(bytes, to.port, to.address, () => undefined);
      };
      const wait = min + this.#rng.below(max - min + 1);
      if (wait <= 0) {
        send();
        continue;
      }
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        send();
      }, wait);
      this.#timers.add(timer);
    }
  }

  #fromClient(bytes: Buffer, from: Endpoint): void {
    const key = `${from.address}:${from.port}`;
    let upstream = this.#upstream.get(key);
    if (!upstream) {
      this.stats.clients++;
      upstream = bindUdpSocket(this.#options.listen.address, 0).then((socket) => {
        socket.on('message', (answer) => {
          if (this.#main) this.#forward(this.#main, answer, from, 'down');
        });
        return socket;
      });
      this.#upstream.set(key, upstream);
    }
    void upstream.then((socket) => this.#forward(socket, bytes, this.#options.target, 'up'));
  }

  async close(): Promise<RelayStats> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    const sockets = [this.#main, ...(await Promise.all(this.#upstream.values()))];
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()))));
    return this.stats;
  }
}

function endpoint(text: string | undefined): Endpoint {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text ?? '');
  if (!m) throw new Error(`expected ADDRESS:PORT, got ${text}`);
  return { address: m[1] as string, port: Number(m[2]) };
}

async function main(argv: readonly string[]): Promise<void> {
  const arg = (name: string, fallback?: string): string => {
    const i = argv.indexOf(`--${name}`);
    const value = i >= 0 ? argv[i + 1] : fallback;
    if (value === undefined) throw new Error(`--${name} is required`);
    return value;
  };
  const [min = 0, max = min] = arg('delay', '0').split('-').map(Number);
  const relay = await UdpRelay.start({
    listen: endpoint(arg('listen')),
    target: endpoint(arg('to')),
    copies: Number(arg('copies', '1')),
    delayMs: [min, max],
    seed: Number(arg('seed', '1')),
  });
  process.stdout.write(`${JSON.stringify({ listening: relay.port })}\n`);
  process.once('SIGTERM', () => {
    void relay.close().then((stats) => {
      process.stdout.write(`${JSON.stringify(stats)}\n`, () => process.exit(0));
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`udp-relay: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
