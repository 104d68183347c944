// src/cli/input.ts
// The message text: from the arguments, or from standard input when it is '-' or absent and
// standard input is not a terminal.

import { IpmsgError } from '../errors.js';
import type { Context } from './context.js';

const MAX_STDIN_BYTES = 1024 * 1024;

async function readStdin(ctx: Context): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new IpmsgError('IPMSG_ERR_TOO_LONG', `Standard input is longer than ${MAX_STDIN_BYTES} bytes`);
    chunks.push(buffer);
  }
  const bytes = Buffer.concat(chunks);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // One trailing newline is the end of the input, not part of the message.
  return text.replace(/\r?\n$/, '');
}

/**
 * @throws IpmsgError IPMSG_ERR_USAGE when there is no message, IPMSG_ERR_INPUT when it is empty
 */
export async function readMessage(ctx: Context, words: readonly string[]): Promise<string> {
  let text: string;
  if (words.length === 0 || (words.length === 1 && words[0] === '-')) {
    if (ctx.stdin.isTTY) {
      throw new IpmsgError('IPMSG_ERR_USAGE', 'No message: give it after the target, or pipe it to standard input');
    }
    text = await readStdin(ctx);
  } else {
    text = words.join(' ');
  }
  text = text.replace(/\r\n/g, '\n');
  if (text.length === 0) throw new IpmsgError('IPMSG_ERR_INPUT', 'Empty message');
  if (text.includes('\0')) throw new IpmsgError('IPMSG_ERR_INPUT', 'The message contains a NUL character');
  return text;
}
