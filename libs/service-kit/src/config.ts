import { isIP } from 'node:net';
import { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

/** Reads one variable into a typed value, or throws a ConfigError naming it. */
export interface VarSpec<T> {
  read(env: Env, name: string): T;
}

interface Options<T> {
  /** Used when the variable is unset. Without a default, an unset variable is an error. */
  default?: T;
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined ? undefined : value.trim();
}

function required<T>(name: string, options: Options<T>): T {
  if (options.default === undefined) throw new ConfigError(name, 'is required but not set');
  return options.default;
}

/**
 * Values a template ships so that nobody deploys it by accident. A secret holding one is refused at start:
 * a service must not run with a fake key that happens to be a valid string (a Pusher secret, a Kick client id).
 */
const PLACEHOLDER = /^(<[^>]*>|replace[_-]?me|change[_-]?me|changeit|todo|tbd|fixme|x{3,}|placeholder|example|secret|password)$/i;

export function str(options: Options<string> & { allowEmpty?: boolean; minLength?: number; secret?: boolean } = {}): VarSpec<string> {
  return {
    read(env, name) {
      const value = raw(env, name);
      if (value === undefined) return required(name, options);
      if (value === '' && !options.allowEmpty) throw new ConfigError(name, 'must not be empty');
      if (options.secret && PLACEHOLDER.test(value)) throw new ConfigError(name, `is a template placeholder ("${value}"): set the real secret`);
      // A secret too short to resist guessing is refused; the empty value (switched off) is not a secret.
      if (value !== '' && options.minLength !== undefined && value.length < options.minLength) {
        throw new ConfigError(name, `must be at least ${options.minLength} characters`);
      }
      return value;
    },
  };
}

export function int(options: Options<number> & { min?: number; max?: number } = {}): VarSpec<number> {
  return {
    read(env, name) {
      const value = raw(env, name);
      if (value === undefined || value === '') return required(name, options);
      if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be an integer, got "${value}"`);
      const n = Number(value);
      if (options.min !== undefined && n < options.min) throw new ConfigError(name, `must be ≥ ${options.min}, got ${n}`);
      if (options.max !== undefined && n > options.max) throw new ConfigError(name, `must be ≤ ${options.max}, got ${n}`);
      return n;
    },
  };
}

export function bool(options: Options<boolean> = {}): VarSpec<boolean> {
  return {
    read(env, name) {
      const value = raw(env, name)?.toLowerCase();
      if (value === undefined || value === '') return required(name, options);
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      throw new ConfigError(name, `must be true or false, got "${value}"`);
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[], options: Options<T> = {}): VarSpec<T> {
  return {
    read(env, name) {
      const value = raw(env, name);
      if (value === undefined || value === '') return required(name, options);
      if (!(values as readonly string[]).includes(value)) {
        throw new ConfigError(name, `must be one of ${values.join(', ')}, got "${value}"`);
      }
      return value as T;
    },
  };
}

/** A URL with one of the given protocols. */
export function url(options: Options<string> & { protocols: readonly string[] }): VarSpec<string> {
  return {
    read(env, name) {
      const value = raw(env, name);
      const text = value === undefined || value === '' ? required(name, options) : value;
      return checkUrl(name, text, options.protocols);
    },
  };
}

/**
 * A comma-separated list of URLs with one of the given protocols (`nats://a:4222,nats://b:4222`), e.g. the
 * servers of a cluster; a single URL is a list of one. Empty entries are refused, not skipped: a stray comma
 * is more likely a mistake than a wish.
 */
export function urlList(options: Options<string[]> & { protocols: readonly string[] }): VarSpec<string[]> {
  return {
    read(env, name) {
      const value = raw(env, name);
      if (value === undefined || value === '') return required(name, options);
      const entries = value.split(',').map((entry) => entry.trim());
      if (entries.some((entry) => entry === '')) throw new ConfigError(name, `has an empty entry in "${value}"`);
      return entries.map((entry) => checkUrl(name, entry, options.protocols));
    },
  };
}

function checkUrl(name: string, text: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(name, `must be a URL, got "${text}"`);
  }
  if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return text;
}

/**
 * Like `url`, but set to the empty string it reads as `undefined`: that is how an optional dependency
 * (ClickHouse) is switched off while its default still applies when the variable is unset.
 */
export function optionalUrl(options: Options<string> & { protocols: readonly string[] }): VarSpec<string | undefined> {
  const inner = url(options);
  return {
    read: (env, name) => (raw(env, name) === '' ? undefined : inner.read(env, name)),
  };
}

/** proxy-addr's names for the reserved ranges, accepted by Fastify's `trustProxy` as CIDRs are. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * A comma-separated list of IP addresses and CIDR blocks (`10.0.0.0/8, 192.168.1.7, ::1/128`, or the
 * names `loopback`, `linklocal`, `uniquelocal`); empty or unset: the default (no entries by default).
 */
export function cidrList(options: Options<string[]> = {}): VarSpec<string[]> {
  return {
    read(env, name) {
      const value = raw(env, name);
      if (value === undefined || value === '') return options.default ?? [];
      const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
      for (const entry of entries) {
        if (RANGE_NAMES.has(entry)) continue;
        const [address, prefix, extra] = entry.split('/');
        const family = isIP(address ?? '');
        const bits = family === 4 ? 32 : 128;
        const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
        if (!family || !prefixOk || extra !== undefined) throw new ConfigError(name, `"${entry}" is not an IP address or CIDR block`);
      }
      return entries;
    },
  };
}

type Shape = Record<string, VarSpec<unknown>>;
export type ConfigOf<S extends Shape> = { [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never };

/**
 * Parses `env` once into a typed object whose keys are the variable names. Every variable is read, and
 * all problems are reported together, each naming its variable.
 */
export function parseConfig<S extends Shape>(shape: S, env: Env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: ConfigError[] = [];
  for (const [name, spec] of Object.entries(shape)) {
    try {
      out[name] = spec.read(env, name);
    } catch (error) {
      if (error instanceof ConfigError) problems.push(error);
      else throw error;
    }
  }
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) {
    throw new ConfigError(problems.map((p) => p.variable).join(', '), problems.map((p) => p.message).join('; '));
  }
  return out as ConfigOf<S>;
}

/**
 * For a composition root: parses config, or prints the problem (naming the variable) and exits 1, so a
 * misconfigured service fails at once with one readable line instead of a stack trace.
 */
export function loadConfigOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'invalid configuration', variable: error.variable, error: error.message })}\n`);
    process.exit(1);
  }
}
