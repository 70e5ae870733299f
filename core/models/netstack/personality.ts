// The netstack contract: a container kernel "personality" — the host's kernel, a
// kernel linked into the process as a library, a user-space sandbox kernel, a
// unikernel's stack, a VM's guest kernel — is a TCP feature set (which protocol
// mechanisms its stack has), a cost profile (what each socket call, segment, frame
// and byte costs the core that pays it, and how frames reach the host's NIC) and
// offloads. The kernel.* plugins provide one
// under NetstackToken, built from their manifest options, so that every figure sits
// in a plugin.json with its unit and source; the TCP model (tcp.ts), the packet
// experiment (experiment.ts) and the conformance runner (conformance.ts) read it.

import { token } from '../../engine/tokens';

/** Protocol mechanisms a stack has; each switches a part of the TCP model. */
export interface TcpFeatures {
  /** RFC 7323 window scaling: offer and honour the wscale option. */
  readonly windowScaling: boolean;
  /** Shift offered in wscale. */
  readonly wscale: number;
  /** RFC 7323 timestamps: TSval/TSecr on every segment, RTT from echoes. */
  readonly timestamps: boolean;
  /** RFC 2018 selective acknowledgements (sender scoreboard and receiver blocks). */
  readonly sack: boolean;
  /** Congestion control: RFC 5681 Reno (NewReno recovery) or RFC 8312 CUBIC. */
  readonly congestion: 'reno' | 'cubic';
  /** Fast retransmit after three duplicate ACKs, and fast recovery. */
  readonly fastRetransmit: boolean;
  /** Delayed ACKs: one ACK per two full segments, or after `delayedAckNs`. */
  readonly delayedAck: boolean;
  /** Delayed-ACK timer, ns. */
  readonly delayedAckNs: number;
  /** Nagle's algorithm (RFC 896) on by default for new sockets. */
  readonly nagle: boolean;
  /** TCP_CORK supported: a corked socket sends only full segments. */
  readonly cork: boolean;
  /** Lower bound of the retransmission timeout, ns. */
  readonly minRtoNs: number;
  /** Initial retransmission timeout, ns (RFC 6298: 1 s). */
  readonly initialRtoNs: number;
  /** Zero-window probes from a persist timer. */
  readonly zeroWindowProbe: boolean;
  /** Initial congestion window, segments (RFC 6928: 10). */
  readonly initialWindow: number;
  /** Segment size offered in the SYN's MSS option, bytes. */
  readonly mss: number;
  /** Receive buffer, bytes. */
  readonly receiveBuffer: number;
  /** Send buffer, bytes. */
  readonly sendBuffer: number;
}

/** Costs, in ns of a core, and how frames leave and reach the stack. */
export interface NetstackCosts {
  /** Crossing into the stack per socket call (system call, function call, trap). */
  readonly callNs: number;
  /** Fixed work of a send/recv call inside the stack. */
  readonly callStackNs: number;
  /** Copying payload across the boundary, per byte. */
  readonly copyNsPerByte: number;
  /** Stack work per segment sent (one TSO/GSO super-segment counts once). */
  readonly txSegmentNs: number;
  /** Stack work per segment received (after GRO). */
  readonly rxSegmentNs: number;
  /** Driver work per wire frame, each direction. */
  readonly frameNs: number;
  /** Handing frames to the device: one write (doorbell, tap write, hypercall, VM exit) per batch. */
  readonly deviceWriteNs: number;
  /** Taking frames from the device: one read or interrupt per batch. */
  readonly deviceReadNs: number;
  /** Copy between the stack and the host device per byte (0 when the device reads the stack's buffers). */
  readonly deviceCopyNsPerByte: number;
  /** Host kernel work per frame to forward between the device and the NIC (tap, bridge, vhost); 0 for host Linux itself. */
  readonly hostForwardNs: number;
  /** Software checksum per byte, paid when checksum offload is off. */
  readonly checksumNsPerByte: number;
}

export interface NetstackOffloads {
  /** Hand the device super-segments of up to `gsoMaxBytes` (TSO to the NIC, or GSO in the host). */
  readonly tso: boolean;
  readonly gsoMaxBytes: number;
  /** Merge consecutive received frames into one segment before the stack. */
  readonly gro: boolean;
  /** Checksums computed by the NIC. */
  readonly checksum: boolean;
}

export interface NetstackPersonality {
  /** Id of the plugin that provides it. */
  readonly id: string;
  readonly features: TcpFeatures;
  readonly costs: NetstackCosts;
  readonly offloads: NetstackOffloads;
}

/** The container group's network stack; exclusive capability `netstack`. */
export const NetstackToken = token<NetstackPersonality>('Netstack');

/** The manifest options every kernel.* plugin declares (flat, see options.ts), in base units. */
export type PersonalityOptions = TcpFeatures & NetstackCosts & NetstackOffloads;

/** A personality from a kernel plugin's resolved options (frozen: strategies are read, never changed). */
export function personalityFromOptions(id: string, o: PersonalityOptions): NetstackPersonality {
  const features: TcpFeatures = {
    windowScaling: o.windowScaling, wscale: o.wscale, timestamps: o.timestamps, sack: o.sack, congestion: o.congestion,
    fastRetransmit: o.fastRetransmit, delayedAck: o.delayedAck, delayedAckNs: o.delayedAckNs, nagle: o.nagle, cork: o.cork,
    minRtoNs: o.minRtoNs, initialRtoNs: o.initialRtoNs, zeroWindowProbe: o.zeroWindowProbe, initialWindow: o.initialWindow,
    mss: o.mss, receiveBuffer: o.receiveBuffer, sendBuffer: o.sendBuffer,
  };
  const costs: NetstackCosts = {
    callNs: o.callNs, callStackNs: o.callStackNs, copyNsPerByte: o.copyNsPerByte, txSegmentNs: o.txSegmentNs, rxSegmentNs: o.rxSegmentNs,
    frameNs: o.frameNs, deviceWriteNs: o.deviceWriteNs, deviceReadNs: o.deviceReadNs, deviceCopyNsPerByte: o.deviceCopyNsPerByte,
    hostForwardNs: o.hostForwardNs, checksumNsPerByte: o.checksumNsPerByte,
  };
  const offloads: NetstackOffloads = { tso: o.tso, gsoMaxBytes: o.gsoMaxBytes, gro: o.gro, checksum: o.checksum };
  return Object.freeze({ id, features: Object.freeze(features), costs: Object.freeze(costs), offloads: Object.freeze(offloads) });
}
