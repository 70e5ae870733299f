// Command-line parsing shared by every virtlab command: each command declares its
// synopsis, options (with a description each) and an example once, and gets from that
// its `--help` text and strict parsing, where a mistyped flag is refused with the
// nearest real one ("did you mean --seed?").

import { parseArgs } from 'node:util';
import { closest } from '../../core/plugin/closest';

/** Bad input on the command line: exit status 2, with a hint. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint = 'see virtlab help',
  ) {
    super(message);
  }
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** What the value is, for the help text (`--out <dir>`). */
  readonly arg?: string;
  readonly description: string;
}

export interface CommandSpec {
  readonly name: string;
  /** One line: what the command does. */
  readonly summary: string;
  /** Usage lines, without the leading `virtlab`. */
  readonly usage: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
  /** More to say after the options, if anything. */
  readonly notes?: string;
}

/** The `--help` text of a command: usage, options, examples. */
export function commandHelp(spec: CommandSpec): string {
  const opts = Object.entries(spec.options).map(([name, o]) => [`--${name}${o.type === 'string' ? ` <${o.arg ?? 'value'}>` : ''}${o.multiple ? '…' : ''}`, o.description]);
  opts.push(['--debug', 'print stack traces of errors'], ['--help, -h', 'print this help']);
  const width = Math.max(...opts.map(([l]) => l.length));
  return [
    `virtlab ${spec.name} — ${spec.summary}`,
    '',
    'Usage:',
    ...spec.usage.map((u) => `  virtlab ${u}`),
    '',
    'Options:',
    ...opts.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`),
    '',
    spec.examples.length > 1 ? 'Examples:' : 'Example:',
    ...spec.examples.map((e) => `  ${e}`),
    ...(spec.notes ? ['', spec.notes] : []),
  ].join('\n');
}

/** Does the command line ask for help (before any `--` that ends the options)? */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * Parses a command's arguments strictly. An unknown option is a UsageError that
 * names the nearest option of the command, or lists them all.
 */
export function parseCommand(spec: CommandSpec, args: string[]): { values: Record<string, unknown>; positionals: string[] } {
  const options = Object.fromEntries(Object.entries(spec.options).map(([k, o]) => [k, o.multiple ? { type: o.type, multiple: true } : { type: o.type }]));
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, unknown>, positionals };
  } catch (e) {
    throw usageFrom(e as Error, spec);
  }
}

/** A parseArgs error as a UsageError with the nearest option, for the command `spec`. */
export function usageFrom(e: Error, spec: CommandSpec): UsageError {
  const line = e.message.split('\n')[0];
  const unknown = /^Unknown option '(-{1,2})([^']*)'/.exec(line);
  const names = Object.keys(spec.options);
  if (unknown) {
    const near = closest(unknown[2], names.concat('help', 'debug'));
    const all = names.length ? `options of ${spec.name}: ${names.map((n) => `--${n}`).join(', ')}` : `${spec.name} takes no options`;
    return new UsageError(`unknown option '${unknown[1]}${unknown[2]}' for ${spec.name}`, near ? `did you mean --${near}?` : `${all}; see virtlab ${spec.name} --help`);
  }
  return new UsageError(line.replace(/\.$/, ''), `see virtlab ${spec.name} --help`);
}

/**
 * A `path=value` argument (--set, --option, --compare): the value is YAML. A YAML
 * error is bad input that names the flag and the argument, not an internal error.
 */
export function parseAssignment(flag: string, arg: string, example: string, form = 'path=value'): { path: string; value: unknown } {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UsageError(`${flag} expects ${form}, got '${arg}'`, `for example ${flag} ${example}`);
  const text = arg.slice(eq + 1);
  try {
    // The YAML parser loads only when an assignment is given (not for `virtlab --help`).
    const { parse: parseYaml } = require('yaml') as typeof import('yaml');
    return { path: arg.slice(0, eq), value: parseYaml(text) as unknown };
  } catch (e) {
    throw new UsageError(`${flag} ${arg}: the value is not valid YAML: ${(e as Error).message.split('\n')[0].replace(/:$/, '')}`, `quote it for a string, e.g. ${flag} '${arg.slice(0, eq)}="${text}"'`);
  }
}
