// src/index.ts
// The library: openMessenger() and the workflows of the command line, the messenger facade below
// them, where state is kept, the crypto layer and the protocol codecs. No side effects; what is
// not exported here is internal.

export * from './errors.js';
export * from './protocol/command.js';
export * from './protocol/packet.js';
export * from './protocol/packet-no.js';
export * from './protocol/entry.js';
export * from './protocol/attachment.js';
export * from './protocol/host-list.js';
export * from './protocol/limits.js';
export * from './protocol/peer-charset.js';
export * from './encoding/charset.js';
export * from './crypto/index.js';
export { openMessenger, openSecurity, Client, type OpenOptions, type SendTextOptions, type SendFilesOptions, type ResolveOptions, type HostListOutcome } from './workflows/client.js';
export { AliasTable, expandAliases, ALIAS_LIMITS, type Aliases } from './workflows/aliases.js';
export { messages, type MessagesOptions } from './workflows/messages.js';
export { runDoctor, type DoctorOptions, type DoctorReport, type CheckResult, type CheckStatus, type DoctorSummary } from './workflows/doctor/index.js';
export { receive, senderFilter, type ReceiveOptions, type ReceiveResult, type SaveOffers, type SenderFilter } from './workflows/receive.js';
export { handleMessages, STOP_GRACE, type HandleOptions } from './workflows/handle.js';
export { Dispatcher, DISPATCH_LIMITS, type DispatcherOptions } from './workflows/dispatch.js';
export { execHandler, fitToDatagram, type ExecHandlerOptions, type Handled } from './workflows/exec-handler.js';
export { runHandler, handlerEnv, KILL_GRACE, CAPTURE_LIMIT, type HandlerExit, type RunHandlerOptions } from './workflows/exec.js';
export { messageJson } from './workflows/message-record.js';
export { saveAttachment, DEFAULT_STALL_TIMEOUT, type Saved, type SaveOptions, type OfferedItem } from './workflows/save-offer.js';
export { serveOffer, DEFAULT_SERVE_TIMEOUT, type ServeEvent, type ServeOptions, type ServeResult } from './workflows/serve-offer.js';
export { offerText, checkFits, ATTACHED_TEXT_NAME, TEXT_SERVE_TIMEOUT } from './workflows/send-text.js';
export type { ProgressSink, ProgressItem, ProgressPeer } from './workflows/progress.js';
export { runCommand, type RunCommandOptions, type RunningCommand, type CommandResult, type OutputSink } from './workflows/run-command.js';
export { planWindowsCommand, findWindowsCommand, quoteBatchArgument, type WindowsLookup, type WindowsPlan } from './workflows/windows-command.js';
export { OutputTail, DEFAULT_TAIL_BYTES, type TailLines } from './workflows/output-tail.js';
export { openSpool, type OutputSpool } from './workflows/output-spool.js';
export { composeReport, fitReport, exitStatusOf, commandLine, formatDuration, type RunReport, type CommandEnd } from './workflows/run-report.js';
export { notifyRun, type RunNotifyOptions, type RunNotifyResult } from './workflows/run-notify.js';
export { prepareOffer, type OfferedFile } from './transfer/local-files.js';
export { CONFLICT_POLICIES, type ConflictPolicy } from './transfer/save.js';
export { windowsSafeName, localName, WINDOWS_NAME_MAX } from './transfer/windows-name.js';
export { Messenger, NOT_ABSENT_TEXT, type HostListResult, type MessengerOptions, type PeerCharsets, type ReceivedMessage, type CheckedMessage, type UnsignedMessage, type KeyChangedMessage, type SendOutcome, type SendStatus, type EncryptMode } from './messenger/index.js';
export type { Security } from './messenger/security.js';
export { resolveTargets } from './messenger/resolve.js';
export { parseTarget, MAX_TARGETS, type Destination, type TargetSpec } from './messenger/target.js';
export type { Peer } from './messenger/peers.js';
export type { Identity } from './messenger/packets.js';
export { systemClock, type Clock } from './transport/clock.js';
export { paths, type Paths, loadOwnKeys, KEY_FILE_NAMES, type LoadedKeys, KnownPeers, type KnownPeer, type PeerCheck, KNOWN_PEERS_FILE } from './state/index.js';
export { FilePacketCounter, MemoryPacketCounter, type PacketNumberSource, FilePlainPeers, FilePeerCharsets } from './state/index.js';
