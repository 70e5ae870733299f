// Protocol conformance scripts in a small packetdrill-like format, and their runner.
// A script drives one TCP endpoint of a personality (the stack under test) from the
// outside: it injects packets as a remote peer would send them, calls the socket
// API, and expects packets at given times with given flags, sequence numbers,
// acknowledgement, window and options. The stack's initial sequence number is 0, so
// its sequence numbers read as packetdrill's relative ones; the script's own are
// written as they are.
//
//   // comment (or #)
//   0     listen
//   +0    < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
//   +0    > S. 0:0(0) ack 1 win * <mss 1460,sackOK,TS val * ecr 100,nop,wscale *>
//   +.1   < . 1:1(0) ack 1 win 257
//   +0    write 1000
//   +0    > P. 1:1001(1000) ack 1
//   +.3   > P. 1:1001(1000) ack 1          (the retransmission)
//
// Times are seconds, absolute or `+` relative to the previous line. Actions: listen,
// connect, write N, read N, close, abort, nodelay on|off, cork on|off, state NAME.
// An expected packet must leave within ±10 ms of its time; `*` matches any value; an
// expected packet without `<…>` must carry no options (nop and eol are padding and
// ignored); `win` left out is not checked. A packet the stack sends that the script
// did not expect before its next line fails the script, as in packetdrill. Parsing
// errors name the line.

import { ACK, FIN, PSH, RST, SYN, formatSegment, type Segment, type TcpOptions } from './segment';
import type { NetstackPersonality } from './personality';
import { TcpEndpoint, type TimerKind } from './tcp';

export const TOLERANCE_NS = 10e6;

type Wild = number | '*';

interface PacketPattern {
  flags: number;
  seq: number;
  end: number;
  len: number;
  ack?: Wild;
  win?: Wild;
  /** undefined: no options expected. */
  opts: { mss?: Wild; wscale?: Wild; sackOk?: boolean; ts?: [Wild, Wild]; sack?: Array<[Wild, Wild]> };
}

export type Step =
  | { line: number; t: number; kind: 'inject'; pkt: PacketPattern }
  | { line: number; t: number; kind: 'expect'; pkt: PacketPattern; text: string }
  | { line: number; t: number; kind: 'action'; name: string; arg?: string };

export class ScriptError extends Error {}

/** Parses a script; throws ScriptError naming `file:line`. */
export function parseScript(text: string, file = 'script'): Step[] {
  const steps: Step[] = [];
  let t = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(\/\/|#).*$/, '').trim();
    if (!line) return;
    const where = `${file}:${i + 1}`;
    const m = /^(\+?)(\d*\.?\d*)\s+(.*)$/.exec(line);
    if (!m || m[2] === '' || m[2] === '.') throw new ScriptError(`${where}: a line starts with a time in seconds (e.g. 0, +0.1), got '${raw.trim()}'`);
    const at = Number(m[2]) * 1e9;
    t = m[1] ? t + at : at;
    const rest = m[3];
    if (rest.startsWith('<') || rest.startsWith('>')) {
      const pkt = parsePacket(rest.slice(1).trim(), where, rest[0] === '>');
      steps.push(rest[0] === '<' ? { line: i + 1, t, kind: 'inject', pkt } : { line: i + 1, t, kind: 'expect', pkt, text: rest.slice(1).trim() });
    } else {
      const [name, arg] = rest.split(/\s+/);
      if (!ACTIONS.has(name)) throw new ScriptError(`${where}: unknown action '${name}' (actions: ${[...ACTIONS].join(', ')}; packets start with < or >)`);
      if (['write', 'read', 'nodelay', 'cork', 'state'].includes(name) && arg === undefined) throw new ScriptError(`${where}: '${name}' takes an argument`);
      steps.push({ line: i + 1, t, kind: 'action', name, arg });
    }
  });
  return steps;
}

const ACTIONS = new Set(['listen', 'connect', 'write', 'read', 'close', 'abort', 'nodelay', 'cork', 'state']);

function parsePacket(s: string, where: string, wild: boolean): PacketPattern {
  const m = /^([SFRP.]+)\s+(\d+):(\d+)\((\d+)\)(.*)$/.exec(s);
  if (!m) throw new ScriptError(`${where}: a packet reads FLAGS START:END(LEN) [ack N] [win N] [<options>], got '${s}'`);
  let flags = 0;
  for (const c of m[1]) flags |= c === 'S' ? SYN : c === 'F' ? FIN : c === 'R' ? RST : c === 'P' ? PSH : ACK;
  const pkt: PacketPattern = { flags, seq: Number(m[2]), end: Number(m[3]), len: Number(m[4]), opts: {} };
  if (pkt.end - pkt.seq !== pkt.len) throw new ScriptError(`${where}: ${m[2]}:${m[3]} spans ${pkt.end - pkt.seq} bytes, not ${pkt.len}`);
  let rest = m[5].trim();
  const num = (v: string): Wild => {
    if (v === '*') {
      if (!wild) throw new ScriptError(`${where}: '*' only in expected packets`);
      return '*';
    }
    if (!/^\d+$/.test(v)) throw new ScriptError(`${where}: '${v}' is not a number`);
    return Number(v);
  };
  const optStart = rest.indexOf('<');
  const optText = optStart >= 0 ? rest.slice(optStart) : '';
  rest = optStart >= 0 ? rest.slice(0, optStart).trim() : rest;
  const words = rest.split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i += 2) {
    if (words[i] === 'ack') pkt.ack = num(words[i + 1]);
    else if (words[i] === 'win') pkt.win = num(words[i + 1]);
    else throw new ScriptError(`${where}: unknown packet field '${words[i]}' (fields: ack, win, <options>)`);
  }
  if (optText) {
    if (!optText.endsWith('>')) throw new ScriptError(`${where}: options end with '>'`);
    for (const o of optText.slice(1, -1).split(',').map((x) => x.trim()).filter(Boolean)) {
      const w = o.split(/\s+/);
      if (w[0] === 'nop' || w[0] === 'eol') continue;
      if (w[0] === 'mss') pkt.opts.mss = num(w[1]);
      else if (w[0] === 'wscale') pkt.opts.wscale = num(w[1]);
      else if (w[0] === 'sackOK') pkt.opts.sackOk = true;
      else if (w[0] === 'TS' && w[1] === 'val' && w[3] === 'ecr') pkt.opts.ts = [num(w[2]), num(w[4])];
      else if (w[0] === 'sack') pkt.opts.sack = w.slice(1).map((b) => b.split(':').map(num) as [Wild, Wild]);
      else throw new ScriptError(`${where}: unknown option '${o}' (mss N, wscale N, sackOK, TS val N ecr N, sack A:B …, nop, eol)`);
    }
  }
  return pkt;
}

function toSegment(p: PacketPattern): Segment {
  const opts: TcpOptions = {};
  if (typeof p.opts.mss === 'number') opts.mss = p.opts.mss;
  if (typeof p.opts.wscale === 'number') opts.wscale = p.opts.wscale;
  if (p.opts.sackOk) opts.sackOk = true;
  if (p.opts.ts) opts.ts = [p.opts.ts[0] as number, p.opts.ts[1] as number];
  if (p.opts.sack) opts.sack = p.opts.sack.map(([a, b]) => [a as number, b as number] as const);
  return { flags: p.flags, seq: p.seq, ack: typeof p.ack === 'number' ? p.ack : 0, win: typeof p.win === 'number' ? p.win : 65535, len: p.len, opts };
}

/** Why a packet does not match a pattern, or undefined when it does. */
function mismatch(p: PacketPattern, s: Segment): string | undefined {
  const eq = (w: Wild | undefined, v: number | undefined) => w === '*' || w === v;
  if (p.flags !== s.flags) return 'flags';
  if (p.seq !== s.seq || p.len !== s.len) return 'sequence numbers';
  if (p.ack !== undefined && s.flags & ACK && !eq(p.ack, s.ack)) return 'ack';
  if (p.win !== undefined && !eq(p.win, s.win)) return 'window';
  const o = s.opts;
  if ((p.opts.mss !== undefined) !== (o.mss !== undefined) || (p.opts.mss !== undefined && !eq(p.opts.mss, o.mss))) return 'mss option';
  if ((p.opts.wscale !== undefined) !== (o.wscale !== undefined) || (p.opts.wscale !== undefined && !eq(p.opts.wscale, o.wscale))) return 'wscale option';
  if (!!p.opts.sackOk !== !!o.sackOk) return 'sackOK option';
  if (!!p.opts.ts !== !!o.ts || (p.opts.ts && o.ts && (!eq(p.opts.ts[0], o.ts[0]) || !eq(p.opts.ts[1], o.ts[1])))) return 'timestamps option';
  const ps = p.opts.sack ?? [];
  const os = o.sack ?? [];
  if (ps.length !== os.length || ps.some((b, i) => !eq(b[0], os[i][0]) || !eq(b[1], os[i][1]))) return 'SACK blocks';
  return undefined;
}

export interface ScriptResult {
  readonly pass: boolean;
  /** The first failure: line and reason. */
  readonly failure?: string;
}

/** Runs one parsed script against a personality's protocol model. */
export function runScript(steps: readonly Step[], personality: NetstackPersonality, file = 'script'): ScriptResult {
  let now = 0;
  const timers: Record<TimerKind, number> = { rto: Infinity, delack: Infinity, persist: Infinity };
  const out: Array<{ t: number; seg: Segment }> = [];
  const ep = new TcpEndpoint(personality.features, {
    now: () => now,
    send: (seg) => out.push({ t: now, seg }),
    timer: (kind, at) => (timers[kind] = at),
  });
  // The script sees packets as they are on the wire: one MSS each (no TSO).
  ep.maxSegment = 0;
  const fire = (until: number, stopOnPacket: boolean) => {
    for (;;) {
      if (stopOnPacket && out.length) return;
      let kind: TimerKind | undefined;
      for (const k of ['rto', 'delack', 'persist'] as const) if (timers[k] <= until && (kind === undefined || timers[k] < timers[kind])) kind = k;
      if (!kind) break;
      now = timers[kind];
      timers[kind] = Infinity;
      ep.onTimer(kind);
    }
    if (!(stopOnPacket && out.length)) now = Math.max(now, until);
  };
  const fail = (line: number, why: string): ScriptResult => ({ pass: false, failure: `${file}:${line}: ${why}` });
  for (const step of steps) {
    if (step.kind === 'expect') {
      if (!out.length) fire(step.t + TOLERANCE_NS, true);
      const got = out.shift();
      if (!got) return fail(step.line, `expected ${step.text} at ${(step.t / 1e9).toFixed(3)} s, nothing was sent`);
      if (Math.abs(got.t - step.t) > TOLERANCE_NS) return fail(step.line, `expected ${step.text} at ${(step.t / 1e9).toFixed(3)} s, it left at ${(got.t / 1e9).toFixed(3)} s`);
      const why = mismatch(step.pkt, got.seg);
      if (why) return fail(step.line, `mismatch in ${why}: expected ${step.text}, sent ${formatSegment(got.seg)}`);
      continue;
    }
    fire(step.t, false);
    if (out.length) return fail(step.line, `unexpected packet at ${(out[0].t / 1e9).toFixed(3)} s: ${formatSegment(out[0].seg)}`);
    if (step.kind === 'inject') {
      ep.receive(toSegment(step.pkt));
      continue;
    }
    switch (step.name) {
      case 'listen':
        ep.listen();
        break;
      case 'connect':
        ep.connect();
        break;
      case 'write':
        ep.write(Number(step.arg));
        break;
      case 'read':
        ep.read(Number(step.arg));
        break;
      case 'close':
        ep.close();
        break;
      case 'abort':
        ep.abort();
        break;
      case 'nodelay':
        ep.noDelay = step.arg === 'on';
        if (ep.noDelay) ep.output();
        break;
      case 'cork':
        if (step.arg === 'on' && !personality.features.cork) return fail(step.line, 'TCP_CORK is not supported');
        ep.setCork(step.arg === 'on');
        break;
      case 'state':
        if (ep.state !== step.arg) return fail(step.line, `expected state ${step.arg}, the socket is ${ep.state}`);
        break;
    }
  }
  if (out.length) return fail(steps[steps.length - 1]?.line ?? 0, `unexpected packet at ${(out[0].t / 1e9).toFixed(3)} s: ${formatSegment(out[0].seg)}`);
  return { pass: true };
}
