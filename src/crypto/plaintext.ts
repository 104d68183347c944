// src/crypto/plaintext.ts
// What an encrypted message body holds once decrypted (§6.3, §6.4): the text and its NUL, then with
// ENCEXTMSGOPT the attachment list and NUL and/or the recipient list `TO:user:host\a…` and NUL.

import { type Charset, decodeText, encodeText } from '../encoding/charset.js';
import { NUL, concatBytes, splitBytes } from '../encoding/fields.js';
import { IpmsgError } from '../errors.js';
import { type Attachment, decodeAttachments, encodeAttachments } from '../protocol/attachment.js';
import { DEFAULT_LIMITS } from '../protocol/limits.js';

/** One addressee of a message sent to several hosts (official `UserToUList`). */
export interface Recipient {
  readonly user: string;
  readonly host: string;
}

export interface MessageParts {
  readonly text: string;
  readonly attachments?: readonly Attachment[];
  readonly recipients?: readonly Recipient[];
}

const TO = 'TO:';
/** More than the official ever writes (its list buffer is 3072 bytes); the rest is ignored. */
export const MAX_RECIPIENTS = 100;

const NUL_BYTE = new Uint8Array([NUL]);

function checkField(what: string, value: string, colon: boolean): void {
  if (value.includes('\0') || value.includes('\x07') || (colon && value.includes(':'))) {
    throw new IpmsgError('IPMSG_ERR_INPUT', `Invalid ${what} ${JSON.stringify(value)}: no NUL, BEL${colon ? " or ':'" : ''} allowed`);
  }
}

/**
 * The plaintext bytes. Text and attachment list are in `charset` (the official converts both to the
 * peer's code page); the recipient list is always UTF-8, as the official writes it.
 * @throws IpmsgError IPMSG_ERR_INPUT, IPMSG_ERR_ENCODING
 */
export function encodePlaintext(parts: MessageParts, charset: Charset = 'utf-8'): Uint8Array {
  if (parts.text.includes('\0')) throw new IpmsgError('IPMSG_ERR_INPUT', 'Text must not contain a NUL character');
  const out = [encodeText(parts.text, charset), NUL_BYTE];
  const attachments = parts.attachments && parts.attachments.length > 0 ? parts.attachments : undefined;
  const recipients = parts.recipients && parts.recipients.length > 0 ? parts.recipients : undefined;
  if (attachments) out.push(encodeText(encodeAttachments(attachments), charset), NUL_BYTE);
  if (recipients) {
    if (!attachments) out.push(NUL_BYTE); // an empty attachment field keeps the list third
    let list = TO;
    for (const { user, host } of recipients) {
      checkField('recipient user', user, true);
      checkField('recipient host', host, true);
      list += `${user}:${host}\x07`;
    }
    out.push(encodeText(list, 'utf-8'), NUL_BYTE);
  }
  return concatBytes(out);
}

/**
 * Splits decrypted bytes. Without ENCEXTMSGOPT (`extended` false) only the text counts, as in the
 * official DecryptMsg; a missing final NUL is tolerated.
 */
export function decodePlaintext(bytes: Uint8Array, extended: boolean, charset: Charset = 'utf-8'): MessageParts {
  const [textBytes = new Uint8Array(0), listBytes, toBytes] = splitBytes(bytes, NUL, 4);
  const text = decodeText(textBytes, charset);
  if (!extended) return { text };
  const attachments =
    listBytes && listBytes.length > 0
      ? decodeAttachments(decodeText(listBytes, charset), {
          maxAttachments: DEFAULT_LIMITS.maxAttachments,
          maxFileNameChars: DEFAULT_LIMITS.maxFileNameBytes,
        })
      : [];
  const recipients = toBytes ? decodeRecipients(decodeText(toBytes, 'utf-8')) : [];
  return {
    text,
    ...(attachments.length > 0 ? { attachments } : {}),
    ...(recipients.length > 0 ? { recipients } : {}),
  };
}

/** `TO:user:host\a…` as the official UListToHostSub reads it: user to the first ':', host to the next. */
function decodeRecipients(list: string): Recipient[] {
  if (!list.startsWith(TO)) return [];
  const out: Recipient[] = [];
  for (const entry of list.slice(TO.length).split('\x07')) {
    if (out.length >= MAX_RECIPIENTS) break;
    const [user, host] = entry.split(':', 2);
    if (user && host) out.push({ user, host });
  }
  return out;
}
