// test/cli/list.test.ts
// What `list` shows of a peer's client: the official 4.11's entry answer as captured (§16), and a
// FeiQ entry, whose version fields go to --json only.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergePeers, peerJson, peerRow } from '../../src/cli/list.js';
import { peerFromListEntry } from '../../src/messenger/host-list.js';
import { peerFromEntry } from '../../src/messenger/peers.js';
import type { EntryPacket } from '../../src/protocol/packet.js';
import { decode } from '../helpers/fake-lan.js';

function peerOf(datagram: string): ReturnType<typeof peerFromEntry> {
  const packet = decode(Buffer.from(datagram, 'latin1')) as EntryPacket;
  return peerFromEntry(packet, { address: '10.253.0.1', port: 2425 }, 0);
}

describe('list: the client column', () => {
  test('the official IP Messenger 4.11 (VS:00010001:4:11:10000) is "IP Messenger Win32 4.11"', () => {
    const peer = peerOf('1:1796604556:root-<bd766e3a277f2882>:WIN-HOST:224657409:win-peer\x00lab\x00\nUN:root-<bd766e3a277f2882>\nHN:WIN-HOST\nNN:win-peer\nGN:lab\nVS:00010001:4:11:10000\nES:0');
    assert.equal(peerRow(peer).at(-1), 'IP Messenger Win32 4.11');
    assert.equal((peerJson(peer, 0) as { client: string }).client, 'IP Messenger Win32 4.11');
  });

  test('FeiQ is "FeiQ"; its version fields (a MAC address among them) are in the JSON only', () => {
    const peer = peerOf('1_lbt4_10#128#002481627512#0#0#0:1796604600:feiq:FEIQ-PC:1:FeiQ user\x00work\x00');
    const row = peerRow(peer);
    assert.equal(row.at(-1), 'FeiQ');
    assert.ok(!row.join(' ').includes('002481627512'), row.join(' '));
    const json = peerJson(peer, 0) as { client: string; version: string; feiq: unknown };
    assert.equal(json.client, 'FeiQ');
    assert.deepEqual(json.feiq, { dialect: 'lbt4_10', fields: ['128', '002481627512', '0', '0', '0'] });
    assert.equal(json.version, '1_lbt4_10#128#002481627512#0#0#0');
  });

  test('no FeiQ fields for other clients', () => {
    const peer = peerOf('1_iptux 0.8.3:5:root:iptux-n1:1:iptux-peer\x00lab\x00icon-tux.png\x00utf-8\x00');
    assert.equal(peerRow(peer).at(-1), 'iptux 0.8.3');
    assert.equal('feiq' in peerJson(peer, 0), false);
  });
});

describe('list --via: where each peer was learned', () => {
  const entry = { user: 'alice', host: 'PC9', status: 0x01200000, address: '10.1.0.9', port: 2425, nick: 'Alice', group: '' };
  const listed = peerFromListEntry(entry, '10.1.0.5', 0);
  const heard = peerOf('1:1796604556:root-<bd766e3a277f2882>:WIN-HOST:224657409:win-peer\x00lab\x00\nVS:00010001:4:11:10000');

  test('--json says via: the listing peer, or null for a peer that answered us', () => {
    assert.equal((peerJson(listed, 0) as { via: unknown }).via, '10.1.0.5');
    assert.equal((peerJson(heard, 0) as { via: unknown }).via, null);
  });
  test('the table has a VIA column before CLIENT only when asked', () => {
    assert.deepEqual(peerRow(listed, true).slice(-2), ['10.1.0.5', '-']);
    assert.equal(peerRow(heard, true).at(-2), '-');
    assert.equal(peerRow(listed).length, 7);
  });
  test('each address once: a peer that answered wins over a list naming it; several lists merge', () => {
    const sameAsHeard = { ...listed, address: heard.address, port: heard.port };
    const other = peerFromListEntry({ ...entry, address: '10.2.0.9' }, '10.2.0.5', 0);
    const merged = mergePeers([heard], [[sameAsHeard, listed], [listed, other]]);
    assert.deepEqual(merged.map((p) => [p.address, p.via ?? null]), [['10.253.0.1', null], ['10.1.0.9', '10.1.0.5'], ['10.2.0.9', '10.2.0.5']]);
  });
});
