// The far end of a wired NIC (chapter 19a, `net=wire`): QEMU's dgram netdev sends every Ethernet frame the guest
// transmits as one UDP datagram to a loopback socket of the runner, and puts every datagram the runner sends back on
// the wire. The runner plays one host, 10.0.2.2: it answers ARP for that address and exchanges UDP datagrams with
// the guest. Nothing else is on the wire, so the guest can reach nothing but the runner.
import { createSocket, type Socket } from 'node:dgram';

/** The guest's address and QEMU's default MAC for the first NIC; the runner's own address and a made-up MAC. */
export const GUEST_IP = [10, 0, 2, 15];
export const GUEST_MAC = Buffer.from([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
export const PEER_IP = [10, 0, 2, 2];
export const PEER_MAC = Buffer.from([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);

/** A UDP datagram the guest sent to the runner's address. */
export interface Datagram {
  from: number;
  to: number;
  data: Buffer;
}

/** The Internet checksum (RFC 1071) of `b`, with `sum` carried in. */
export function checksum(b: Buffer, sum = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One end of a frame: its MAC and IPv4 address. */
export interface Station {
  mac: Buffer;
  ip: number[];
}

export const GUEST: Station = { mac: GUEST_MAC, ip: GUEST_IP };
export const PEER: Station = { mac: PEER_MAC, ip: PEER_IP };

/** An Ethernet frame carrying one UDP datagram from `src`'s port `from` to `dst`'s port `to`, with both checksums. */
export function ipv4UdpFrame(src: Station, dst: Station, from: number, to: number, data: Buffer): Buffer {
  const udp = Buffer.alloc(8 + data.length);
  udp.writeUInt16BE(from, 0);
  udp.writeUInt16BE(to, 2);
  udp.writeUInt16BE(udp.length, 4);
  data.copy(udp, 8);
  const pseudo = Buffer.from([...src.ip, ...dst.ip, 0, 17, udp.length >> 8, udp.length & 0xff]);
  udp.writeUInt16BE(checksum(Buffer.concat([pseudo, udp])) || 0xffff, 6);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + udp.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  Buffer.from(src.ip).copy(ip, 12);
  Buffer.from(dst.ip).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([dst.mac, src.mac, Buffer.from([0x08, 0x00]), ip, udp]);
}

/** One Ethernet frame from the runner's address to the guest carrying a UDP datagram. */
export function udpFrame(from: number, to: number, data: Buffer): Buffer {
  return ipv4UdpFrame(PEER, GUEST, from, to, data);
}

/** The ARP reply for a request asking who has the runner's address, or undefined for any other frame. */
export function arpReply(frame: Buffer): Buffer | undefined {
  if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0806 || frame.readUInt16BE(20) !== 1) return undefined;
  if (!frame.subarray(38, 42).equals(Buffer.from(PEER_IP))) return undefined;
  const asker = frame.subarray(22, 32); // sender MAC and IP
  const head = Buffer.from([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02]);
  return Buffer.concat([asker.subarray(0, 6), PEER_MAC, Buffer.from([0x08, 0x06]), head, PEER_MAC, Buffer.from(PEER_IP), asker]);
}

/** The UDP datagram in a frame the guest sent to the runner's address, or undefined for any other frame. */
export function parseUdp(frame: Buffer): Datagram | undefined {
  if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800) return undefined;
  const ip = frame.subarray(14);
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ip[9] !== 17 || !ip.subarray(16, 20).equals(Buffer.from(PEER_IP))) return undefined;
  const udp = ip.subarray(ihl, ip.readUInt16BE(2));
  return { from: udp.readUInt16BE(0), to: udp.readUInt16BE(2), data: Buffer.from(udp.subarray(8, udp.readUInt16BE(4))) };
}

/** The runner's end of the wire: a loopback socket QEMU sends frames to, and the datagrams the guest sent. */
export class Wire {
  /** the port QEMU's netdev sends from and listens on (chosen by the runner before the boot) */
  qemuPort = 0;
  private listeners = new Set<(d: Datagram) => void>();
  private constructor(
    private socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (frame) => this.onFrame(frame));
  }

  /** Binds the runner's socket on 127.0.0.1 and picks a free port for QEMU's side. */
  static async open(): Promise<Wire> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const wire = new Wire(socket, socket.address().port);
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    wire.qemuPort = probe.address().port;
    await new Promise<void>((resolve) => probe.close(resolve));
    return wire;
  }

  private onFrame(frame: Buffer): void {
    const arp = arpReply(frame);
    if (arp) this.socket.send(arp, this.qemuPort, '127.0.0.1');
    const d = parseUdp(frame);
    if (d) for (const l of this.listeners) l(d);
  }

  /** Sends `data` to the guest's UDP port `to`, from the runner's port `from`. */
  send(from: number, to: number, data: Buffer): void {
    this.socket.send(udpFrame(from, to, data), this.qemuPort, '127.0.0.1');
  }

  /** The next datagram the guest sends to the runner's port `to` from its port `from`, or undefined after `ms`. */
  next(from: number, to: number, ms: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const done = (d: Buffer | undefined) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(d);
      };
      const listener = (d: Datagram) => {
        if (d.from === from && d.to === to) done(d.data);
      };
      const timer = setTimeout(() => done(undefined), ms);
      this.listeners.add(listener);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(resolve));
  }
}

/** QEMU's side of the wire: a virtio-net NIC on a dgram netdev whose frames go to the runner's socket. */
export function wireArgs(wire: { port: number; qemuPort: number } | undefined): string[] {
  if (wire === undefined) return [];
  return [
    '-netdev',
    `dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=${wire.qemuPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${wire.port}`,
    '-device',
    'virtio-net-pci,netdev=net0',
  ];
}
