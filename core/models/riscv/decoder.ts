// The RV64GC decoder's public face: operation numbers and decode functions, for
// translators and tools. They are defined in interpreter.ts, next to the dispatch
// switch that needs the operation numbers inlined as literals.

export { Op, decode16, decode32, newDecoded, writesIntRd, type Decoded } from './interpreter';
