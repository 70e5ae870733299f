// Plugin presets, like Bevy's DefaultPlugins and MinimalPlugins. A scenario starts
// from one (`preset: default`), removes entries with `without: [...]`, and adds or
// replaces plugins under `plugins:`; a plugin listed there that provides the same
// exclusive capability as a preset entry replaces that entry, so swapping a
// strategy is one line.

export const PRESETS = Object.freeze({
  /** Nothing: only what the scenario lists. Tests start here. */
  minimal: Object.freeze([] as string[]),
  /** What a batch run needs: placement and the synthetic workload. */
  headless: Object.freeze(['placement.first-fit', 'workload.synthetic']),
  /** headless, plus the event trace that the visualizer and reports read. */
  default: Object.freeze(['placement.first-fit', 'workload.synthetic', 'trace.events']),
});

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
