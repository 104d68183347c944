// test/stress/hostile-peers.ts
// Spoofed peers on loopback for the battery: each a socket on its own 127.0.0.x address and port
// with its own user@host, sending raw SENDMSGs and noting what comes back (RECVMSGs, auto-replies).

import type { Socket } from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { bindUdpSocket } from '../helpers/udp-relay.js';

export const SENDMSG = 0x20;
export const RECVMSG = 0x21;
export const SENDCHECKOPT = 0x100;
export const BROADCASTOPT = 0x400;
export const AUTORETOPT = 0x2000;
export const UTF8OPT = 0x800000;

/** A SENDMSG datagram; every field raw, so that a test can put anything in it. */
export function sendMsg(packetNo: number, user: Buffer | string, host: Buffer | string, command: number, text: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`1:${packetNo}:`), Buffer.from(user), Buffer.from(':'), Buffer.from(host), Buffer.from(`:${command}:`), Buffer.from(text), Buffer.from([0])]);
}

export interface Heard {
  readonly command: number;
  readonly body: string;
  readonly bytes: number;
}

export class Spoofed {
  readonly heard: Heard[] = [];
  /** Packet numbers a RECVMSG acknowledged, with how often. */
  readonly acks = new Map<number, number>();
  sentBytes = 0;
  receivedBytes = 0;
  #waiters = new Set<() => void>();

  private constructor(
    readonly socket: Socket,
    readonly user: string,
    readonly host: string,
  ) {
    socket.on('message', (msg) => {
      this.receivedBytes += msg.length;
      const fields = msg.toString('latin1').split(':');
      const command = Number(fields[4]);
      const body = fields.slice(5).join(':').replace(/\0.*$/s, '');
      this.heard.push({ command, body, bytes: msg.length });
      if ((command & 0xff) === RECVMSG) this.acks.set(Number(body), (this.acks.get(Number(body)) ?? 0) + 1);
      for (const w of this.#waiters) w();
    });
  }

  static async open(address: string, user: string, host: string): Promise<Spoofed> {
    return new Spoofed(await bindUdpSocket(address, 0), user, host);
  }

  get address(): { address: string; port: number } {
    return this.socket.address();
  }

  send(datagram: Buffer, port: number, address = '127.0.0.1'): void {
    this.sentBytes += datagram.length;
    this.socket.send(datagram, port, address);
  }

  /** Sends `datagram` every `interval` ms until packet `packetNo` is acknowledged or `signal` aborts; how many times it went out. */
  async sendUntilAcked(datagram: Buffer, packetNo: number, port: number, interval: number, signal: AbortSignal): Promise<number> {
    let tries = 0;
    while (!this.acks.has(packetNo) && !signal.aborted) {
      this.send(datagram, port);
      tries++;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(check);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const check = (): void => {
          if (this.acks.has(packetNo)) done();
        };
        const timer = setTimeout(done, interval);
        this.#waiters.add(check);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return tries;
  }

  close(): void {
    this.socket.close();
  }
}

/** Direct children of a process (every handler `recv --exec` runs is one). */
export function childrenOf(pid: number): number {
  let count = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the parent id is the second field after it.
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}
