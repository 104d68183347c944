// src/transfer/offer-registry.ts
// The offers a file server serves and who may fetch what (§5.4): a request is granted only to a
// recipient of the offer, for a file it holds, of the kind asked for, as often as allowed, and,
// when the offer went encrypted, only when signed by that peer (§5.6); a replayed request is refused.

import type { FileBodyCrypto } from '../crypto/file-body.js';
import { IpmsgError } from '../errors.js';
import { IPMSG_ENCFILEOPT, IPMSG_ENCRYPTOPT, getMode, hasOpt } from '../protocol/command.js';
import type { FileRequestPacket, Packet } from '../protocol/packet.js';
import type { OfferedFile } from './local-files.js';
import { type FileRequest, parseEncryptedRequest, parseFileRequest } from './request.js';

/** An encrypted request, decrypted and its signature verified. */
export interface OpenedRequest {
  /** The plaintext: `packetID:fileID:[offset:]` and the §5.6 fields. */
  readonly plaintext: string;
  /** Who signed it (the known peer whose key verified the signature, `base@host`). */
  readonly signer: string;
}

/**
 * Decrypts an ENCRYPTOPT request and verifies its signature with the requester's pinned key.
 * @throws IpmsgError with the reason to refuse
 */
export type OpenRequest = (packet: FileRequestPacket, address: string) => Promise<OpenedRequest>;

interface ActiveOffer {
  readonly packetNo: number;
  readonly files: readonly OfferedFile[];
  readonly recipients: Set<string>;
  /** Completed downloads per `${address}/${fileId}`. */
  readonly done: Map<string, number>;
  readonly busy: Set<string>;
  /** Recipients the offer went to encrypted: address → the peer it was encrypted for. */
  readonly signers: Map<string, string>;
}

/** A granted request: what to send, and how. Call `finish` when the transfer ends. */
export interface Grant {
  readonly packetNo: number;
  readonly file: OfferedFile;
  readonly offset: number;
  /** 'dir': a folder stream; 'file-as-stream': a regular file as a one-entry folder stream; 'file'. */
  readonly shape: 'dir' | 'file-as-stream' | 'file';
  readonly body: FileBodyCrypto | undefined;
  /** 'encrypted': signed request, AES-256-CTR stream; 'signed': signed request, clear stream (NOENC_FILEBODY). */
  readonly security: 'encrypted' | 'signed' | 'plain';
  /** Ends the transfer; `fetched` counts it as a complete download. */
  finish(fetched: boolean): void;
}

function refused(reason: string): IpmsgError {
  return new IpmsgError('IPMSG_ERR_PROTOCOL', `refused a file request: ${reason}`);
}

export class OfferRegistry {
  readonly #offers = new Map<number, ActiveOffer>();
  /** The last request packet number per signer (replay protection, §5.6). */
  readonly #lastRequest = new Map<string, number>();
  readonly #downloadsPerRecipient: number;
  readonly #openRequest: OpenRequest | undefined;

  /** `openRequest`: without it (no keys), encrypted requests are refused. */
  constructor(downloadsPerRecipient: number, openRequest: OpenRequest | undefined) {
    this.#downloadsPerRecipient = downloadsPerRecipient;
    this.#openRequest = openRequest;
  }

  add(packetNo: number, files: readonly OfferedFile[], recipients: readonly string[]): void {
    this.#offers.set(packetNo, { packetNo, files, recipients: new Set(recipients), done: new Map(), busy: new Set(), signers: new Map() });
  }

  requireSigned(packetNo: number, address: string, signer: string): void {
    this.#offers.get(packetNo)?.signers.set(address, signer);
  }

  release(packetNo: number, address: string): boolean {
    return this.#offers.get(packetNo)?.recipients.delete(address) ?? false;
  }

  isComplete(packetNo: number): boolean {
    const offer = this.#offers.get(packetNo);
    if (!offer) return true;
    for (const address of offer.recipients) {
      for (const file of offer.files) if (!offer.done.has(`${address}/${file.fileId}`)) return false;
    }
    return true;
  }

  pending(packetNo: number): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const offer = this.#offers.get(packetNo);
    for (const address of offer?.recipients ?? []) {
      const missing = offer?.files.filter((f) => !offer.done.has(`${address}/${f.fileId}`)).map((f) => f.fileId) ?? [];
      if (missing.length > 0) out.set(address, missing);
    }
    return out;
  }

  recipients(packetNo: number): number {
    return this.#offers.get(packetNo)?.recipients.size ?? 0;
  }

  downloads(packetNo: number): number {
    let total = 0;
    for (const count of this.#offers.get(packetNo)?.done.values() ?? []) total += count;
    return total;
  }

  /**
   * Checks a request from `address` and marks its file busy for that recipient.
   * @throws IpmsgError IPMSG_ERR_PROTOCOL with the reason to refuse
   */
  async authorise(packet: Packet, address: string): Promise<Grant> {
    if (packet.kind !== 'GETFILEDATA' && packet.kind !== 'GETDIRFILES') {
      throw refused(`command 0x${getMode(packet.command).toString(16)} is not a file request`);
    }
    const wantsDir = packet.kind === 'GETDIRFILES';
    const { request, body, signer } = await this.#read(packet, wantsDir ? 'dir' : 'file', address);
    const offer = this.#offers.get(request.packetNo);
    if (!offer) throw refused(`no offer ${request.packetNo}`);
    if (!offer.recipients.has(address)) throw refused(`${address} is not a recipient of offer ${request.packetNo}`);
    const wanted = offer.signers.get(address);
    if (wanted !== undefined && signer !== wanted) {
      throw refused(signer === undefined ? `the offer went to ${address} encrypted: a plain request is not accepted from it` : `signed by ${signer}, but the offer went to ${wanted}`);
    }
    const file = request.fileIds.map((id) => offer.files.find((f) => f.fileId === id)).find((f) => f !== undefined);
    if (!file) throw refused(`offer ${request.packetNo} has no file ${request.fileIds.join(' or ')}`);
    // A file asked for with GETDIRFILES goes as a one-entry stream, as the official sends it to its
    // own encrypted requests (§5.6); plain requests must ask for the kind offered (as iptux does).
    const fileAsStream = wantsDir && file.kind === 'file' && signer !== undefined;
    if (wantsDir !== (file.kind === 'dir') && !fileAsStream) throw refused(`${file.name} is a ${file.kind === 'dir' ? 'folder' : 'file'}`);
    const key = `${address}/${file.fileId}`;
    if (offer.busy.has(key)) throw refused(`${file.name} is already being sent to ${address}`);
    if ((offer.done.get(key) ?? 0) >= this.#downloadsPerRecipient) throw refused(`${file.name} was already fetched by ${address}`);
    offer.busy.add(key);
    return {
      packetNo: offer.packetNo,
      file,
      offset: request.offset,
      shape: fileAsStream ? 'file-as-stream' : wantsDir ? 'dir' : 'file',
      body,
      security: signer === undefined ? 'plain' : body?.kind === 'aes-256-ctr' ? 'encrypted' : 'signed',
      finish: (fetched) => {
        offer.busy.delete(key);
        if (fetched) offer.done.set(key, (offer.done.get(key) ?? 0) + 1);
      },
    };
  }

  /**
   * The request as asked: a plain body, or an encrypted one opened by `openRequest` (its signature
   * verified), whose packet number must be above the last one of the same signer (§5.6: a recorded
   * request sent again gets nothing).
   */
  async #read(packet: FileRequestPacket, kind: 'file' | 'dir', address: string): Promise<{ request: FileRequest; body: FileBodyCrypto | undefined; signer: string | undefined }> {
    if (!hasOpt(packet.command, IPMSG_ENCRYPTOPT)) {
      const request = parseFileRequest(packet.body);
      if (!request) throw refused('malformed request body');
      return { request, body: undefined, signer: undefined };
    }
    if (!this.#openRequest) throw refused('it is encrypted, and we have no keys');
    const opened = await this.#openRequest(packet, address);
    const request = parseEncryptedRequest(opened.plaintext, kind, hasOpt(packet.command, IPMSG_ENCFILEOPT));
    if (!request) throw refused(`malformed encrypted request from ${opened.signer}`);
    const packetNo = request.body?.packetNo;
    if (packetNo !== undefined) {
      const last = this.#lastRequest.get(opened.signer);
      if (last !== undefined && packetNo <= last) throw refused(`replayed request: packet ${packetNo} of ${opened.signer} is not after its last, ${last}`);
      this.#lastRequest.set(opened.signer, packetNo);
    }
    return { request, body: request.body, signer: opened.signer };
  }
}
