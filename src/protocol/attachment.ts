// src/protocol/attachment.ts
// The attachment list of a SENDMSG offer (§5.1): fileID:name:size:mtime:attr[:ext=val…]:\a

import { IPMSG_FILE_DIR, IPMSG_FILE_REGULAR, fileType } from './file-attr.js';
import { parseHex, toHex } from '../encoding/fields.js';

export interface Attachment {
  /** Decimal in the offer; requests print it in hex (§5.2). */
  readonly fileId: number;
  readonly name: string;
  readonly size: number;
  /** Unix seconds; 0 when unknown. */
  readonly mtime: number;
  /**
   * The offered time as it came, when it could not be read: more than 13 hex digits, or not hex.
   * `mtime` is then 0: the file is kept, its time not used. Characters outside printable ASCII
   * are '?', so that it reads back the same whatever the code page it is encoded in.
   */
  readonly unreadMtime?: string;
  /** IPMSG_FILE_* type in the low 8 bits, attribute options above. */
  readonly attr: number;
  /** Extended attributes `hexid=value`, e.g. 0x14 (mtime), 0x8 (clipboard position). */
  readonly extra?: Readonly<Record<number, string>>;
}

/** Escapes ':' in a file name as '::' (spec §5.1). */
function escapeName(name: string): string {
  return name.replaceAll(':', '::');
}

export function encodeAttachments(attachments: readonly Attachment[]): string {
  let out = '';
  for (const a of attachments) {
    let extra = '';
    for (const [id, value] of Object.entries(a.extra ?? {})) extra += `:${toHex(Number(id))}=${value}`;
    out += `${a.fileId}:${escapeName(a.name)}:${toHex(a.size)}:${a.unreadMtime ?? toHex(a.mtime)}:${toHex(a.attr)}${extra}:\x07`;
  }
  return out;
}

export interface AttachmentLimits {
  readonly maxAttachments: number;
  readonly maxFileNameChars: number;
}

/**
 * Parses an attachment list as any real client writes it: entries joined by `\a`, `:\a`, `\a:` or
 * `:\a:` (official, iptux), '::' in names meaning ':'. Entries that do not parse are skipped; an
 * entry whose only fault is its time is kept with `unreadMtime`.
 */
export function decodeAttachments(list: string, limits: AttachmentLimits): Attachment[] {
  const out: Attachment[] = [];
  for (const raw of list.split('\x07')) {
    if (out.length >= limits.maxAttachments) break;
    const entry = raw.startsWith(':') ? raw.slice(1) : raw;
    if (entry.length === 0) continue;
    const parsed = decodeEntry(entry, limits);
    if (parsed) out.push(parsed);
  }
  return out;
}

function decodeEntry(entry: string, limits: AttachmentLimits): Attachment | undefined {
  const idEnd = entry.indexOf(':');
  if (idEnd <= 0) return undefined;
  const idText = entry.slice(0, idEnd);
  if (!/^[0-9]{1,10}$/.test(idText)) return undefined;
  // The name runs to the first single ':'; '::' is an escaped colon.
  let name = '';
  let i = idEnd + 1;
  for (; i < entry.length; i++) {
    const ch = entry[i];
    if (ch === ':') {
      if (entry[i + 1] === ':') {
        name += ':';
        i++;
        continue;
      }
      break;
    }
    name += ch;
  }
  if (name.length === 0 || name.length > limits.maxFileNameChars) return undefined;
  const fields = entry
    .slice(i + 1)
    .split(':')
    .filter((f) => f.length > 0);
  const size = parseHex(fields[0] ?? '');
  const mtimeText = fields[1] ?? '0';
  const mtime = parseHex(mtimeText);
  const attr = fields[2] === undefined ? IPMSG_FILE_REGULAR : parseHex(fields[2]);
  if (size === undefined || attr === undefined) return undefined;
  const extra: Record<number, string> = {};
  let hasExtra = false;
  for (const field of fields.slice(3)) {
    const eq = field.indexOf('=');
    const id = eq > 0 ? parseHex(field.slice(0, eq)) : undefined;
    if (id === undefined) continue;
    extra[id] = field.slice(eq + 1);
    hasExtra = true;
  }
  const attachment: Attachment = {
    fileId: Number(idText),
    name,
    size,
    mtime: mtime ?? 0,
    ...(mtime === undefined ? { unreadMtime: mtimeText.replace(/[^\x20-\x7e]/g, '?') } : {}),
    attr: attr >>> 0,
  };
  return hasExtra ? { ...attachment, extra } : attachment;
}

/** 'file', 'dir', or the type number for anything else (clipboard images, links, devices). */
export function attachmentKind(attr: number): 'file' | 'dir' | 'other' {
  const type = fileType(attr);
  if (type === IPMSG_FILE_REGULAR) return 'file';
  if (type === IPMSG_FILE_DIR) return 'dir';
  return 'other';
}
