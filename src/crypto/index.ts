// src/crypto/index.ts
// The crypto layer (issue 4): encryption and identity as the official IP Messenger does them
// (PROTOCOL.md §6, §5.6). It sits between the codecs (protocol/, encoding/) and the layers that
// do I/O (state/, transport/), and imports none of the layers above it. All of it is pure (bytes
// and keys in, bytes and keys out): the key files and the pinned peer keys are state/'s.
//
// ## What a messenger does with it
//
// - Start: state/'s `loadOwnKeys(dir, { legacy })` once (the first run makes an RSA-2048 key with
//   `generateRsaKeyPair`). Advertise ENCRYPTOPT (and ENCEXTMSGOPT) in entries, our
//   user name as `withFingerprint(user, fingerprint(keys.rsa2048.publicKey))`.
// - Keys: GETPUBKEY body `encodeGetPubKey(localCapa(o))`; answer a GETPUBKEY with
//   `encodeAnsPubKey(answerFor(key, localCapa(o)))`, key = our 2048 key when the requester's capa
//   has RSA_2048, else the 1024 one. An ANSPUBKEY: `decodeAnsPubKey(body)` → `publicKeyFrom(parts)`
//   → drop it unless `checkNameFingerprint(user, key) !== 'mismatch'` → state/'s
//   `KnownPeers.check/remember` (a mismatch: `keyChangedError(peerId(peer), m)`; `ipmsg keys
//   trust` calls `trust`).
// - Send: `selectCombination(localCapa(o), peerCapa)` (undefined: send plain, or refuse with
//   IPMSG_ERR_ENCRYPT_UNAVAILABLE) → `encryptMessage({ parts, packetNo, combination, peerPublicKey,
//   ownPrivateKey })` → the SENDMSG body; set ENCRYPTOPT, and ENCEXTMSGOPT when parts carry
//   attachments or recipients.
// - Receive (ENCRYPTOPT): `decryptMessage({ body, packetNo: <header token>, ownKeys,
//   senderPublicKey, extended: <ENCEXTMSGOPT>, charset })` → text, lists, `signature`
//   ('verified' | 'bad' | 'none' | 'unknown-key'). Errors: IPMSG_ERR_DECRYPT, one generic message
//   for every cryptographic failure.
// - Encrypted file requests: `encodeFileBodyCrypto` / `decodeFileBodyCrypto` for the fields after
//   `pkt:fid:`, then `createFileStreamCipher(key, requestPacketNo)` around the TCP stream.
//
// ## Functions
//
// localCapa(o?: { legacy }) → number                 our capa word (65900004; 65920006 with legacy)
// selectCombination(ours, theirs) → Combination|undefined   §6.3 order; 41900004 with the official
// combinationOf(capa) → Combination|undefined        reads a received CAPA word
// encodeGetPubKey(capa) / decodeGetPubKey(body)      GETPUBKEY body (protocol/pubkey.ts)
// encodeAnsPubKey(answer) / decodeAnsPubKey(body)    ANSPUBKEY body, limits: odd e in 3..2^32-1,
//                                                    odd modulus of 512..4096 bits (protocol/pubkey.ts)
// answerFor(key, capa) → PublicKeyAnswer             our key as ANSPUBKEY parts
// publicKeyFrom({ exponent, modulus }) → KeyObject   a peer key from ANSPUBKEY parts (JWK import)
// publicParts(key) → { exponent, modulus }           modulus big-endian, exponent a number
// generateRsaKeyPair(bits) → Promise<RsaKeyPair>     e = 65537, off the main thread
// fingerprint(key | modulus) → string                16 hex (§6.6); fingerprintSteps() shows each step
// withFingerprint(name, fp) → string                 `name-<fp>`, name cut to 60 UTF-8 bytes
// parseFingerprintName(name) → { base, fingerprint } | undefined    the official's detection scan
// checkNameFingerprint(user, key) → 'match'|'mismatch'|'none'
// encryptMessage(options) → string                   `CAPA:ENCKEY:ENCBODY[:SIGNATURE]`
// decryptMessage(options) → DecryptedMessage         throws IPMSG_ERR_DECRYPT
// messageIv(combination, packetNo) → Buffer          the packet-number IV (exposed for tests/tools)
// encodePlaintext(parts, charset?) / decodePlaintext(bytes, extended, charset?)   text\0[list\0][TO:…\0]
// Blowfish, blowfishCbcEncrypt/Decrypt               Blowfish (ECB block; CBC + PKCS#7)
// rsaEncrypt(publicKey, data) / rsaDecrypt(privateKey, block, length)   PKCS#1 v1.5 session key
// encodeFileBodyCrypto(c) / decodeFileBodyCrypto(fields)   `900000:<key>:<pkt>` / `4000000:<pkt>`
// fileStreamIv(packetNo) / createFileStreamCipher(key, packetNo)   AES-256-CTR file stream
// keyPairFromPem(pem, bits) / privateKeyPem(pair)    our key files' PKCS#8 PEM (state/own-keys.ts)
// peerId({ user, host }) → 'base@host'; keyFingerprint(key); keyChangedError(id, mismatch)
// spkiDer(key) / publicKeyFromSpki(der)             pinned keys as state/known-peers.ts files them
//
// ## Errors (src/errors.ts)
//
// IPMSG_ERR_DECRYPT 76: a message we cannot decrypt. IPMSG_ERR_ENCRYPT_UNAVAILABLE 79: no
// combination or key fits the peer. IPMSG_ERR_KEY_MISMATCH 67: a known peer shows another key.
// IPMSG_ERR_KEY_FILE 78: a key or known-peers file that cannot be read or is damaged (left alone).
//
// ## Choices
//
// - Session-key decryption uses OpenSSL's raw RSA (RSA_NO_PADDING) and our own PKCS#1 unpad
//   (rsa-pkcs1.ts): Node 20 refuses PKCS#1 v1.5 private-key decryption, and a JavaScript RSA
//   library would cost more to load and to run than the rest of the layer.
// - Blowfish is ours (blowfish.ts): Node's OpenSSL 3 has it only in the legacy provider.
// - Startup: nothing runs at import; no key work until called. Loading node:crypto starts OpenSSL,
//   which nothing else in the CLI needs: a CLI loads this layer only when encryption is on.

export * from './blowfish.js';
export * from './capability.js';
export * from './envelope.js';
export * from './file-body.js';
export * from './file-crypto.js';
export * from './fingerprint.js';
export * from './keys.js';
export * from './message.js';
export * from './peer-id.js';
export * from './plaintext.js';
export * from './rsa-pkcs1.js';
export * from '../protocol/pubkey.js';
