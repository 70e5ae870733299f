// kernel.host-linux: provides the container group's network stack (NetstackToken) as
// the personality its manifest describes — feature set, costs and offloads, each
// with its source. The TCP model, the packet path and the conformance runner
// (core/models/netstack/) read it; this plugin holds no mechanism of its own because
// a personality is data: what differs between kernels is which mechanisms they
// have and what each costs.

import { definePlugin, NetstackToken, personalityFromOptions } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  api.provide(NetstackToken, { useValue: personalityFromOptions(api.id, api.options) });
});
