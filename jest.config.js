// Jest configuration: TypeScript through @swc/jest (swc does not read tsconfig, so
// the decorator settings are repeated here), and the ESM-only inversify packages
// transformed too.
//
// Two tiers, as two projects: `unit` (npm run test:fast, about two minutes on 2 cores) and
// `slow`, the suites that execute real guest programs, run whole scenarios, matrices
// or reproductions, fuzz the translators, or drive a browser. `npm test` runs both.
// Test timeouts are generous on purpose: they are there to end a hang, not to judge
// speed, and a machine shared with other work is slow.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
};

/** Suites of the slow tier, as path patterns (each one takes seconds to minutes). */
const SLOW = [
  '/__tests__/guests/.*\\.test\\.ts$', // every guest program under every execution engine
  '/__tests__/dbt/fuzz\\.test\\.ts$', // random programs through the translators
  '/__tests__/dbt/hooks\\.test\\.ts$', // a guest program through every translator's hooks
  '/__tests__/dbt/background\\.test\\.ts$', // guests with translation compiled on a worker thread, delayed
  '/__tests__/dbt/code-cache\\.test\\.ts$', // `virtlab exec` processes with a persistent translation cache, cold and warm
  '/__tests__/repro/.*\\.test\\.ts$', // the papers' trends, from sweeps of whole simulations
  '/__tests__/scenarios/.*\\.test\\.ts$', // every scenario file, run to its end
  '/__tests__/core/engine/hooks-coverage\\.test\\.ts$', // every scenario again, observing every hook
  '/__tests__/tools/matrix/ci\\.test\\.ts$', // the CI matrix against its goldens
  '/__tests__/tools/matrix/cli\\.test\\.ts$', // processes with pools of worker threads
  '/__tests__/tools/view/view\\.test\\.ts$', // the visualizer in headless Chromium
  '/__tests__/tools/exec\\.test\\.ts$', // guest programs through `virtlab exec`
  '/__tests__/tools/build-edit\\.test\\.ts$', // a copy of the code compiled, edited and compiled again by `virtlab` processes
  '/__tests__/tools/hostile-exec\\.test\\.ts$', // `virtlab exec` processes writing into pipes
  '/__tests__/plugins/workload-guest\\.test\\.ts$', // guests on simulated time, checkpoints
  '/__tests__/plugins/guest-wss\\.test\\.ts$', // working-set estimation on a real guest in MMU timing mode
  '/__tests__/tools/bounds-guests\\.test\\.ts$', // guests at 2 GiB, a CLI process whose plugin hangs boot
  '/__tests__/tools/localize\\.test\\.ts$', // bug localization: hundreds of guest runs per injected bug
  '/__tests__/system/linux-boot\\.test\\.ts$', // Linux booted on the virt-compatible machine to our init
  '/__tests__/system/linux-vm.*\\.test\\.ts$', // Linux booted in a scenario VM on simulated time (the SSP scenario twice, in MMU timing mode)
  '/__tests__/system/linux-ssp\\.test\\.ts$', // Linux booted twice in MMU timing mode (shadow paging, SSP)
  '/__tests__/system/linux-boot-engines\\.test\\.ts$', // Linux booted three times: the interpreter, the block translator, instrew
  '/__tests__/system/engines-baremetal\\.test\\.ts$', // the bare-metal programs under every engine, whole and in chunks
];

// Jest runs every module inside a vm context, whose global object answers each lookup
// of a global variable through a C++ interceptor that V8 cannot cache or inline: under
// Jest, `Math.imul` in the seeded random streams' generator cost 120 times its time in
// a plain process, and a PML/PRL reproduction run 3.5-10 times its time. Jest passes the
// globals named here to each module as parameters of its wrapper function instead, so
// they are ordinary local variables (the same objects: the sandbox's own).
const INJECTED_GLOBALS = [
  'Math', 'Number', 'Object', 'Array', 'String', 'Boolean', 'Symbol', 'BigInt', 'JSON', 'Reflect',
  'Map', 'Set', 'WeakMap', 'Promise', 'Error', 'RangeError', 'TypeError',
  'ArrayBuffer', 'DataView', 'Uint8Array', 'Uint16Array', 'Uint32Array', 'Int8Array', 'Int16Array',
  'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'WebAssembly',
  'Infinity', 'isFinite', 'isNaN', 'parseInt', 'parseFloat', 'Atomics', 'SharedArrayBuffer', 'Buffer', 'process',
  // Not Date, performance or the timers: Jest's fake timers replace those on the global
  // object after the modules have loaded. Not NaN either: Jest refuses a falsy value.
];

const common = {
  testEnvironment: 'node',
  sandboxInjectedGlobals: INJECTED_GLOBALS,
  roots: ['<rootDir>/__tests__'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', swc] },
  transformIgnorePatterns: ['/node_modules/(?!(inversify|@inversifyjs)/)'],
  moduleNameMapper: { '^virtlab$': '<rootDir>/core/index.ts', '^virtlab/testing$': '<rootDir>/tools/node/testing.ts' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

module.exports = {
  // Tests never write into the repository tree: checked around the whole run (the
  // setup first brings the compiled build the virtlab command runs up to date).
  globalSetup: '<rootDir>/tools/node/jest-setup.js',
  globalTeardown: '<rootDir>/tools/node/tree-guard.js',
  // Both cores of the 2-core machines the suite is sized for: most suites spend their
  // time in one thread, so two workers nearly halve the run on an idle machine and cost
  // little on a busy one.
  maxWorkers: 2,
  // Per test; a global option (a project's own testTimeout is not honoured).
  testTimeout: 600_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', ...SLOW] },
    { ...common, displayName: 'slow', testRegex: SLOW },
  ],
};
