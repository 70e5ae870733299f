// Plugin presets, like Bevy's DefaultPlugins and MinimalPlugins. A scenario starts
// from one (`preset: default`), removes entries with `without: [...]`, and adds or
// replaces plugins under `plugins:`; a plugin listed there that provides the same
// exclusive capability as a preset entry replaces that entry, so swapping a
// strategy is one line.

export const PRESETS = Object.freeze({
  /**
   * Nothing: only what the scenario lists. Tests start here. A scenario that declares
   * hosts or VMs under it lists `datacenter.racks` (and `network.flows` if it moves data
   * between hosts); without them the simulation refuses to boot and names the
   * missing capability.
   */
  minimal: Object.freeze([] as string[]),
  /** What a batch run needs: the datacenter and its network, placement and the synthetic workload. */
  headless: Object.freeze(['datacenter.racks', 'network.flows', 'placement.first-fit', 'workload.synthetic']),
  /** headless, plus the event trace that the visualizer and reports read. */
  default: Object.freeze(['datacenter.racks', 'network.flows', 'placement.first-fit', 'workload.synthetic', 'trace.events']),
});

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
