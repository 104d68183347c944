// src/workflows/message-record.ts
// A received message as one JSON record: what `recv --json` prints and what a `--exec` handler reads on stdin.

import type { ReceivedMessage } from '../messenger/index.js';
import { attachmentKind } from '../protocol/attachment.js';
import { IPMSG_AUTORETOPT, IPMSG_BROADCASTOPT, IPMSG_MULTICASTOPT, IPMSG_SECRETOPT, hasOpt } from '../protocol/command.js';
import type { Saved } from './save-offer.js';

export function messageJson(m: ReceivedMessage, saved?: readonly Saved[]): object {
  const p = m.packet;
  return {
    packetNo: p.packetNo,
    time: new Date(m.receivedAt).toISOString(),
    from: {
      address: m.from.address,
      port: m.from.port,
      user: p.user,
      host: p.host,
      ...(m.peer ? { nick: m.peer.nick, group: m.peer.group } : {}),
    },
    text: p.text,
    sealed: hasOpt(p.command, IPMSG_SECRETOPT),
    broadcast: hasOpt(p.command, IPMSG_BROADCASTOPT),
    multicast: hasOpt(p.command, IPMSG_MULTICASTOPT),
    autoReply: hasOpt(p.command, IPMSG_AUTORETOPT),
    encrypted: m.encrypted,
    signature: m.signature,
    ...('keys' in m ? { keys: m.keys } : {}),
    charset: p.charset,
    attachments: (p.attachments ?? []).map((a) => ({
      fileId: a.fileId,
      name: a.name,
      size: a.size,
      mtime: a.mtime,
      kind: attachmentKind(a.attr),
      attr: a.attr,
    })),
    ...(saved ? { saved } : {}),
  };
}
