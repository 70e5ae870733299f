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

type Lookup = (text: string) => ValidateFunction | undefined;
export interface RecordedSchema {
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
 * An ajv instance made on first use: making one costs milliseconds, and a command
 * whose schemas are all precompiled never needs it.
 */
export function lazyAjv(make: () => Ajv): () => Ajv {
  let ajv: Ajv | undefined;
  return () => (ajv ??= make());
}

/**
 * The validator of `schema` under the ajv instance `ajv` returns; `kind` names that
 * instance (its options and keywords), so that equal schemas under different options
 * never share one.
 */
export function compileSchema(ajv: () => Ajv, kind: string, schema: object): ValidateFunction {
  const lookup = slot[PRECOMPILED];
  const record = slot[RECORD];
  if (!lookup && !record) return ajv().compile(schema);
  const text = `${kind}\n${JSON.stringify(schema)}`;
  const found = lookup?.(text);
  if (found) return found;
  const instance = ajv();
  const validate = instance.compile(schema);
  record?.push({ text, ajv: instance, validate });
  return validate;
}
