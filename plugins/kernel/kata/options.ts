// Options of plugin kernel.kata, generated from its plugin.json by `npm run gen`: do not edit.
// Every option has its default applied before the plugin sees it.

export interface Options {
  /** RFC 7323 window scaling: offer wscale in the SYN and honour the peer's. Default: true. */
  readonly windowScaling: boolean;
  /** Window scale shift offered in the SYN. Unit: shift. Default: 7. */
  readonly wscale: number;
  /** RFC 7323 timestamps: TSval/TSecr on every segment and RTT from their echoes. Default: true. */
  readonly timestamps: boolean;
  /** RFC 2018 selective acknowledgements: SACK-permitted in the SYN, SACK blocks, SACK-based recovery. Default: true. */
  readonly sack: boolean;
  /** Congestion control: Reno with NewReno recovery (RFC 5681/6582) or CUBIC (RFC 8312). Default: "cubic". */
  readonly congestion: "reno" | "cubic";
  /** Fast retransmit after three duplicate ACKs, and fast recovery. Default: true. */
  readonly fastRetransmit: boolean;
  /** Delayed ACKs: one ACK per two full segments, else after the delayed-ACK timer. Default: true. */
  readonly delayedAck: boolean;
  /** Delayed-ACK timer. Unit: ns. Default: 40000000. */
  readonly delayedAckNs: number;
  /** Nagle's algorithm on by default for new sockets (RFC 896). Default: true. */
  readonly nagle: boolean;
  /** TCP_CORK: a corked socket sends only full segments. Default: true. */
  readonly cork: boolean;
  /** Lower bound of the retransmission timeout. Unit: ns. Default: 200000000. */
  readonly minRtoNs: number;
  /** Retransmission timeout before any RTT sample (RFC 6298: 1 s). Unit: ns. Default: 1000000000. */
  readonly initialRtoNs: number;
  /** Zero-window probes from a persist timer. Default: true. */
  readonly zeroWindowProbe: boolean;
  /** Initial congestion window (RFC 6928: 10). Unit: segments. Default: 10. */
  readonly initialWindow: number;
  /** Segment size offered in the SYN (limited by the NIC's MTU − 40). Unit: bytes. Default: 1460. */
  readonly mss: number;
  /** Socket receive buffer: the most the receiver advertises. Unit: bytes. Default: 6291456. */
  readonly receiveBuffer: number;
  /** Socket send buffer: the most the application may have written and not yet had acknowledged. Unit: bytes. Default: 4194304. */
  readonly sendBuffer: number;
  /** Crossing into the stack per socket call: system call entry and exit, a function call into a library kernel, a trap into a user-space kernel, a call through a library OS’s host interface. Unit: ns. Default: 150. */
  readonly callNs: number;
  /** Fixed work of a send() or recv() inside the stack (socket lookup, locking, skb allocation). Unit: ns. Default: 300. */
  readonly callStackNs: number;
  /** Copying payload between the application and the stack. Unit: ns/byte. Default: 0.1. */
  readonly copyNsPerByte: number;
  /** Stack work per segment sent (TCP and IP output; a TSO/GSO super-segment counts once). Unit: ns. Default: 1000. */
  readonly txSegmentNs: number;
  /** Stack work per segment received (IP and TCP input, after GRO). Unit: ns. Default: 1000. */
  readonly rxSegmentNs: number;
  /** Driver work per wire frame (descriptor, DMA mapping, completion), and software segmentation per frame without TSO. Unit: ns. Default: 50. */
  readonly frameNs: number;
  /** Handing a batch of frames to the device: a driver doorbell for host Linux, a write() to a tap or packet socket for a library OS, a hypercall, a virtio kick with its VM exit. Unit: ns. Default: 2500. */
  readonly deviceWriteNs: number;
  /** Taking a batch of frames from the device: an interrupt and NAPI poll, a read() from a tap, an interrupt injected into a VM. Unit: ns. Default: 3000. */
  readonly deviceReadNs: number;
  /** Copy between the stack's buffers and the host device (0 when the device reads the stack's own memory). Unit: ns/byte. Default: 0.1. */
  readonly deviceCopyNsPerByte: number;
  /** Host-kernel work per frame between a container's device and the NIC (tap, bridge, vhost); 0 for host Linux. Unit: ns. Default: 600. */
  readonly hostForwardNs: number;
  /** Software checksum, paid when checksum offload is off. Unit: ns/byte. Default: 0.1. */
  readonly checksumNsPerByte: number;
  /** Hand the device TSO/GSO super-segments of up to gsoMaxBytes instead of one MSS at a time. Default: true. */
  readonly tso: boolean;
  /** Largest super-segment the stack hands down. Unit: bytes. Default: 65536. */
  readonly gsoMaxBytes: number;
  /** Merge consecutive received frames into one segment before the stack (GRO/LRO). Default: true. */
  readonly gro: boolean;
  /** Checksums offloaded to the NIC. Default: true. */
  readonly checksum: boolean;
}
