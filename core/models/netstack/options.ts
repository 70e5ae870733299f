// The option schemas every container-kernel personality (plugins/kernel/*) declares:
// its TCP feature set, its cost profile and its offloads. Each manifest references
// them one by one (`{ "$ref": "virtlab:netstack#/callNs", "default": 250, "$comment":
// "source …" }`), so the meaning and unit of each figure are written once, here, and
// each personality's manifest holds only its values and where they come from.

const ns = (description: string) => ({ type: 'number', minimum: 0, unit: 'ns', description });
const nsPerByte = (description: string) => ({ type: 'number', minimum: 0, unit: 'ns/byte', description });
const flag = (description: string) => ({ type: 'boolean', description });

export const NETSTACK_OPTION_FRAGMENTS = {
  // --- features
  windowScaling: flag('RFC 7323 window scaling: offer wscale in the SYN and honour the peer\'s.'),
  wscale: { type: 'integer', minimum: 0, maximum: 14, unit: 'shift', description: 'Window scale shift offered in the SYN.' },
  timestamps: flag('RFC 7323 timestamps: TSval/TSecr on every segment and RTT from their echoes.'),
  sack: flag('RFC 2018 selective acknowledgements: SACK-permitted in the SYN, SACK blocks, SACK-based recovery.'),
  congestion: { enum: ['reno', 'cubic'], description: 'Congestion control: Reno with NewReno recovery (RFC 5681/6582) or CUBIC (RFC 8312).' },
  fastRetransmit: flag('Fast retransmit after three duplicate ACKs, and fast recovery.'),
  delayedAck: flag('Delayed ACKs: one ACK per two full segments, else after the delayed-ACK timer.'),
  delayedAckNs: ns('Delayed-ACK timer.'),
  nagle: flag('Nagle\'s algorithm on by default for new sockets (RFC 896).'),
  cork: flag('TCP_CORK: a corked socket sends only full segments.'),
  minRtoNs: ns('Lower bound of the retransmission timeout.'),
  initialRtoNs: ns('Retransmission timeout before any RTT sample (RFC 6298: 1 s).'),
  zeroWindowProbe: flag('Zero-window probes from a persist timer.'),
  initialWindow: { type: 'integer', minimum: 1, unit: 'segments', description: 'Initial congestion window (RFC 6928: 10).' },
  mss: { type: 'integer', minimum: 88, unit: 'bytes', description: 'Segment size offered in the SYN (limited by the NIC\'s MTU − 40).' },
  receiveBuffer: { type: 'number', minimum: 1024, unit: 'bytes', description: 'Socket receive buffer: the most the receiver advertises.' },
  sendBuffer: { type: 'number', minimum: 1024, unit: 'bytes', description: 'Socket send buffer: the most the application may have written and not yet had acknowledged.' },
  // --- costs
  callNs: ns('Crossing into the stack per socket call: system call entry and exit, a function call into a library kernel, a trap into a user-space kernel, a call through a library OS’s host interface.'),
  callStackNs: ns('Fixed work of a send() or recv() inside the stack (socket lookup, locking, skb allocation).'),
  copyNsPerByte: nsPerByte('Copying payload between the application and the stack.'),
  txSegmentNs: ns('Stack work per segment sent (TCP and IP output; a TSO/GSO super-segment counts once).'),
  rxSegmentNs: ns('Stack work per segment received (IP and TCP input, after GRO).'),
  frameNs: ns('Driver work per wire frame (descriptor, DMA mapping, completion), and software segmentation per frame without TSO.'),
  deviceWriteNs: ns('Handing a batch of frames to the device: a driver doorbell for host Linux, a write() to a tap or packet socket for a library OS, a hypercall, a virtio kick with its VM exit.'),
  deviceReadNs: ns('Taking a batch of frames from the device: an interrupt and NAPI poll, a read() from a tap, an interrupt injected into a VM.'),
  deviceCopyNsPerByte: nsPerByte('Copy between the stack\'s buffers and the host device (0 when the device reads the stack\'s own memory).'),
  hostForwardNs: ns('Host-kernel work per frame between a container\'s device and the NIC (tap, bridge, vhost); 0 for host Linux.'),
  checksumNsPerByte: nsPerByte('Software checksum, paid when checksum offload is off.'),
  // --- offloads
  tso: flag('Hand the device TSO/GSO super-segments of up to gsoMaxBytes instead of one MSS at a time.'),
  gsoMaxBytes: { type: 'number', minimum: 1500, maximum: 262144, unit: 'bytes', description: 'Largest super-segment the stack hands down.' },
  gro: flag('Merge consecutive received frames into one segment before the stack (GRO/LRO).'),
  checksum: flag('Checksums offloaded to the NIC.'),
} as const;

/** Every option a personality manifest declares, flat as in plugin.json. */
export const PERSONALITY_OPTION_NAMES = Object.keys(NETSTACK_OPTION_FRAGMENTS) as Array<keyof typeof NETSTACK_OPTION_FRAGMENTS>;
