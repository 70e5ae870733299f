// JSON Schema validators, compiled ahead of time where they can be. Compiling one
// (ajv generates and evaluates code) is most of what reading the plugin catalog and a
// scenario costs when a command starts, and the schemas of a checkout are known when
// it is built: the virtlab command's build (tools/build/validators.js) compiles them
// then, and the command hands them over through PRECOMPILED. A schema that is not
// among them (a plugin from outside the repository, a workload schema) is compiled
// here as before. A precompiled validator is ajv's own generated code for the same
// schema and options, so it accepts, rejects, fills defaults and reports exactly alike.

import type { default as Ajv, ValidateFunction } from 'ajv';

/** Set by the virtlab command: the precompiled validator of a schema, if there is one. */
const PRECOMPILED = Symbol.for('virtlab.precompiledValidators');
/** Set by the build: every schema compiled here is recorded with its ajv, for the build to serialize. */
const RECORD = Symbol.for('virtlab.recordValidators');

type Lookup = (hash: string, text: string) => ValidateFunction | undefined;
export interface RecordedSchema {
  readonly hash: string;
  readonly text: string;
  readonly ajv: Ajv;
  readonly validate: ValidateFunction;
}

const slot = globalThis as { [PRECOMPILED]?: Lookup; [RECORD]?: RecordedSchema[] };

/** Ajv's code options: the build needs the generated source kept, to write it out. */
export function ajvCodeOptions(): { source: boolean } {
  return { source: slot[RECORD] !== undefined };
}

/**
 * The validator of `schema` under `ajv`; `kind` names the ajv instance (its options
 * and keywords), so that equal schemas under different options never share one.
 */
export function compileSchema(ajv: Ajv, kind: string, schema: object): ValidateFunction {
  const text = `${kind}\n${JSON.stringify(schema)}`;
  const hash = textHash(text);
  const found = slot[PRECOMPILED]?.(hash, text);
  if (found) return found;
  const validate = ajv.compile(schema);
  slot[RECORD]?.push({ hash, text, ajv, validate });
  return validate;
}

/** A 53-bit hash of a string, in hex (cyrb53); the text itself is compared on a hit. */
export function textHash(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16);
}
