// TCP segments as the packet-level network carries them: header fields, options and
// a payload length (payload bytes are not materialized — the model needs where the
// bytes are, not what they are). A segment longer than the MSS is a TSO/GSO
// super-segment that a NIC (or software GSO) cuts into wire frames; GRO merges
// frames back into one. Sequence numbers are plain integers (no modulo-2^32
// wrap-around: runs move far less than 4 GiB per connection).

export const SYN = 1;
export const ACK = 2;
export const FIN = 4;
export const RST = 8;
export const PSH = 16;

export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sackOk?: boolean;
  /** Timestamps option: TSval, TSecr. */
  ts?: readonly [number, number];
  /** SACK blocks, [start, end) each. */
  sack?: ReadonlyArray<readonly [number, number]>;
}

export interface Segment {
  flags: number;
  seq: number;
  ack: number;
  /** The 16-bit window field as sent (scaled by the sender's wscale outside SYNs). */
  win: number;
  /** Payload bytes. */
  len: number;
  opts: TcpOptions;
}

/** Bytes of IP and TCP headers (20 + 20) and of the options a segment carries. */
export function headerBytes(s: Segment): number {
  let o = 0;
  if (s.opts.mss !== undefined) o += 4;
  if (s.opts.wscale !== undefined) o += 4; // with its nop
  if (s.opts.sackOk) o += 2;
  if (s.opts.ts) o += 10;
  if (s.opts.sack?.length) o += 2 + 8 * s.opts.sack.length;
  return 40 + Math.ceil(o / 4) * 4;
}

/** Bytes of Ethernet framing per wire frame: header 14, FCS 4, preamble 8, gap 12. */
export const ETHERNET_OVERHEAD = 38;

/** The flags as packetdrill writes them: S, F, R, P, then '.' for ACK. */
export function flagString(f: number): string {
  let s = '';
  if (f & SYN) s += 'S';
  if (f & FIN) s += 'F';
  if (f & RST) s += 'R';
  if (f & PSH) s += 'P';
  if (f & ACK) s += '.';
  return s || '-';
}

/** One line in packetdrill's notation (for conformance failures and traces). */
export function formatSegment(s: Segment): string {
  const o: string[] = [];
  if (s.opts.mss !== undefined) o.push(`mss ${s.opts.mss}`);
  if (s.opts.sackOk) o.push('sackOK');
  if (s.opts.ts) o.push(`TS val ${s.opts.ts[0]} ecr ${s.opts.ts[1]}`);
  if (s.opts.wscale !== undefined) o.push(`wscale ${s.opts.wscale}`);
  if (s.opts.sack?.length) o.push(`sack ${s.opts.sack.map(([a, b]) => `${a}:${b}`).join(' ')}`);
  return `${flagString(s.flags)} ${s.seq}:${s.seq + s.len}(${s.len})${s.flags & ACK ? ` ack ${s.ack}` : ''} win ${s.win}${o.length ? ` <${o.join(',')}>` : ''}`;
}
