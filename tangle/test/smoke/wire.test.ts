import { createSocket } from 'node:dgram';
import { describe, expect, test } from 'vitest';
import { udpExchange, WIRE_PORT } from '../../smoke/host.js';
import { arpReply, checksum, GUEST, GUEST_IP, GUEST_MAC, ipv4UdpFrame, PEER, PEER_IP, PEER_MAC, parseUdp, udpFrame, Wire, wireArgs } from '../../smoke/wire.js';

/** What the guest's stack would send: an ARP request for the runner's address. */
function arpRequest(): Buffer {
  const head = Buffer.from([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]);
  return Buffer.concat([
    Buffer.alloc(6, 0xff),
    GUEST_MAC,
    Buffer.from([0x08, 0x06]),
    head,
    GUEST_MAC,
    Buffer.from(GUEST_IP),
    Buffer.alloc(6),
    Buffer.from(PEER_IP),
  ]);
}

/** A UDP frame from the guest to the runner's address. */
function guestFrame(from: number, to: number, data: Buffer): Buffer {
  return ipv4UdpFrame(GUEST, PEER, from, to, data);
}

describe('the wire (net=wire)', () => {
  test('the Internet checksum of a header holding its own checksum is 0', () => {
    const header = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    header.writeUInt16BE(checksum(header), 10);
    expect(header.readUInt16BE(10)).toBe(0xb861);
    expect(checksum(header)).toBe(0);
  });

  test('a frame to the guest has valid IPv4 and UDP checksums and parses back only when addressed to the runner', () => {
    const f = udpFrame(WIRE_PORT, 7, Buffer.from('ping 1'));
    expect(f.subarray(0, 6)).toEqual(GUEST_MAC);
    const ip = f.subarray(14, 34);
    expect(checksum(ip)).toBe(0);
    const udp = f.subarray(34);
    const pseudo = Buffer.from([...PEER_IP, ...GUEST_IP, 0, 17, 0, udp.length]);
    expect(checksum(Buffer.concat([pseudo, udp]))).toBe(0);
    expect(parseUdp(f)).toBeUndefined();
    expect(parseUdp(guestFrame(7, WIRE_PORT, Buffer.from('x')))).toEqual({ from: 7, to: WIRE_PORT, data: Buffer.from('x') });
  });

  test('ARP: the runner answers who-has 10.0.2.2 with its MAC, and nothing else', () => {
    const reply = arpReply(arpRequest())!;
    expect(reply.subarray(0, 6)).toEqual(GUEST_MAC);
    expect(reply.readUInt16BE(20)).toBe(2);
    expect(reply.subarray(22, 32)).toEqual(Buffer.concat([PEER_MAC, Buffer.from(PEER_IP)]));
    expect(reply.subarray(32, 42)).toEqual(Buffer.concat([GUEST_MAC, Buffer.from(GUEST_IP)]));
    const other = arpRequest();
    other[41] = 3;
    expect(arpReply(other)).toBeUndefined();
  });

  test('udpExchange sends each datagram over the wire and records the guest answers, or their absence', async () => {
    const wire = await Wire.open();
    // A stand-in for QEMU and the guest at QEMU's port: asks ARP once, then echoes every datagram upper-cased,
    // except "drop", which it never answers.
    const guest = createSocket('udp4');
    await new Promise<void>((resolve) => guest.bind(wire.qemuPort, '127.0.0.1', resolve));
    const arps: Buffer[] = [];
    guest.on('message', (frame) => {
      if (frame.readUInt16BE(12) === 0x0806) return void arps.push(frame);
      const ip = frame.subarray(14, 34);
      const udp = frame.subarray(34);
      const text = udp.subarray(8).toString();
      if (checksum(ip) !== 0 || text === 'drop') return;
      guest.send(guestFrame(udp.readUInt16BE(2), udp.readUInt16BE(0), Buffer.from(text.toUpperCase())), wire.port, '127.0.0.1');
    });
    guest.send(arpRequest(), wire.port, '127.0.0.1');
    try {
      expect(await udpExchange(wire, 7, ['ping', 'drop', 'two words'], 300)).toEqual([
        '[host] udp 7: sent "ping", got "PING"',
        '[host] udp 7: sent "drop", got nothing within 300 ms',
        '[host] udp 7: sent "two words", got "TWO WORDS"',
      ]);
      expect(await udpExchange(wire, 7, ['x'], 300, 40001)).toEqual(['[host] udp 7 from 40001: sent "x", got "X"']);
      expect(arps).toHaveLength(1);
    } finally {
      guest.close();
      await wire.close();
    }
  });

  test('QEMU gets a dgram netdev between its port and the runner', () => {
    expect(wireArgs({ port: 4000, qemuPort: 4001 })).toEqual([
      '-netdev',
      'dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=4001,remote.type=inet,remote.host=127.0.0.1,remote.port=4000',
      '-device',
      'virtio-net-pci,netdev=net0',
    ]);
    expect(wireArgs(undefined)).toEqual([]);
  });
});
