// Everything the public API exports, plus createHooks, for tests that build models by hand.
export * from './index';
export { createHooks } from './hooks';
