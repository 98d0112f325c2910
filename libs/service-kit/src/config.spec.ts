import { describe, expect, it } from 'vitest';
import { bool, cidrList, int, oneOf, optionalUrl, parseConfig, str, url, urlList } from './config';
import { commonConfig, httpServerConfig } from './common-config';
import { ConfigError } from './errors';

const shape = {
  PORT: int({ default: 8081, min: 0, max: 65535 }),
  NAME: str(),
  DEBUG: bool({ default: false }),
  MODE: oneOf(['a', 'b'] as const, { default: 'a' }),
  NATS_URL: url({ default: 'nats://127.0.0.1:4222', protocols: ['nats'] }),
  CLICKHOUSE_URL: optionalUrl({ default: 'http://127.0.0.1:8123', protocols: ['http', 'https'] }),
};

describe('parseConfig', () => {
  it('applies defaults and types values', () => {
    const config = parseConfig(shape, { NAME: 'x', PORT: '9000', DEBUG: 'true' });
    expect(config).toEqual({
      PORT: 9000,
      NAME: 'x',
      DEBUG: true,
      MODE: 'a',
      NATS_URL: 'nats://127.0.0.1:4222',
      CLICKHOUSE_URL: 'http://127.0.0.1:8123',
    });
  });

  it('reads an empty optional URL as switched off', () => {
    expect(parseConfig(shape, { NAME: 'x', CLICKHOUSE_URL: '' }).CLICKHOUSE_URL).toBeUndefined();
  });

  it.each([
    [{ NAME: 'x', PORT: 'eighty' }, 'PORT', /integer/],
    [{ NAME: 'x', PORT: '70000' }, 'PORT', /≤ 65535/],
    [{}, 'NAME', /required/],
    [{ NAME: 'x', DEBUG: 'maybe' }, 'DEBUG', /true or false/],
    [{ NAME: 'x', MODE: 'c' }, 'MODE', /one of a, b/],
    [{ NAME: 'x', NATS_URL: 'http://h' }, 'NATS_URL', /must use nats/],
    [{ NAME: 'x', CLICKHOUSE_URL: 'not a url' }, 'CLICKHOUSE_URL', /must be a URL/],
  ])('fails naming the bad variable: %j', (env, variable, message) => {
    let caught: unknown;
    try {
      parseConfig(shape, env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toMatch(message);
    expect((caught as ConfigError).message.startsWith(`${variable}:`)).toBe(true);
  });

  it('reports every bad variable at once', () => {
    expect(() => parseConfig(shape, { PORT: 'x' })).toThrow(/PORT, NAME/);
  });
});

describe('NATS variables', () => {
  const read = (env: Record<string, string>) => parseConfig(commonConfig(8080), env);

  it('reads NATS_URL as a list of servers: one by default, a cluster comma-separated', () => {
    expect(read({}).NATS_URL).toEqual(['nats://127.0.0.1:4222']);
    expect(read({ NATS_URL: 'nats://a:4222, nats://b:4222,tls://c:4222' }).NATS_URL).toEqual(['nats://a:4222', 'nats://b:4222', 'tls://c:4222']);
  });

  it.each([
    ['nats://a:4222,http://b:4222', /NATS_URL: must use nats or tls, got "http:"/],
    ['nats://a:4222,,nats://b:4222', /NATS_URL: has an empty entry/],
    ['nats://a:4222,b c', /NATS_URL: must be a URL, got "b c"/],
  ])('refuses NATS_URL=%s naming it', (value, message) => {
    expect(() => read({ NATS_URL: value })).toThrow(message);
  });

  it('reads NATS_STREAM_REPLICAS, 1 by default, 1..5', () => {
    expect(read({}).NATS_STREAM_REPLICAS).toBe(1);
    expect(read({ NATS_STREAM_REPLICAS: '3' }).NATS_STREAM_REPLICAS).toBe(3);
    expect(() => read({ NATS_STREAM_REPLICAS: '0' })).toThrow(/NATS_STREAM_REPLICAS: must be ≥ 1/);
    expect(() => read({ NATS_STREAM_REPLICAS: '6' })).toThrow(/NATS_STREAM_REPLICAS: must be ≤ 5/);
  });

  it('has urlList require a value when it has no default', () => {
    expect(() => parseConfig({ SERVERS: urlList({ protocols: ['nats'] }) }, {})).toThrow(/SERVERS: is required/);
  });
});

describe('proxy and token variables', () => {
  const read = (env: Record<string, string>) => parseConfig({ TRUST_PROXY: cidrList(), TOKEN: str({ default: '', allowEmpty: true, minLength: 24 }) }, env);

  it('reads TRUST_PROXY as a list of addresses and CIDR blocks, none by default', () => {
    expect(read({}).TRUST_PROXY).toEqual([]);
    expect(read({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,::1/128 , loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '192.168.1.7', '::1/128', 'loopback']);
  });

  it.each(['10.0.0.0/33', '10.0.0/8', 'example.com', '10.0.0.0/8/1', '::1/129', '*'])('refuses TRUST_PROXY=%s naming it', (value) => {
    expect(() => read({ TRUST_PROXY: value })).toThrow(/^TRUST_PROXY: .* is not an IP address or CIDR block/);
  });

  it('refuses a short token but not an empty one (switched off)', () => {
    expect(read({ TOKEN: '' }).TOKEN).toBe('');
    expect(() => read({ TOKEN: 'short' })).toThrow(/TOKEN: must be at least 24 characters/);
  });

  it('gives every service TRUST_PROXY and METRICS_TOKEN, handed to the HTTP server', () => {
    const config = parseConfig(commonConfig(8080), { TRUST_PROXY: '10.1.0.0/16', METRICS_TOKEN: 'm'.repeat(24) });
    expect(httpServerConfig(config)).toEqual({ trustProxy: ['10.1.0.0/16'], metricsToken: 'm'.repeat(24) });
    expect(httpServerConfig(parseConfig(commonConfig(8080), {}))).toEqual({ trustProxy: [] });
  });
});

describe('secrets', () => {
  it.each(['REPLACE_ME', 'changeme', 'CHANGE-ME', '<your token>', 'xxxx', 'TODO'])('refuses the placeholder %j, naming the variable', (value) => {
    expect(() => parseConfig({ TOKEN: str({ secret: true }) }, { TOKEN: value })).toThrow(expect.objectContaining({ variable: 'TOKEN' }));
  });
  it('takes a real value, and leaves non-secret strings alone', () => {
    expect(parseConfig({ TOKEN: str({ secret: true }) }, { TOKEN: 'a1b2c3d4e5f6' }).TOKEN).toBe('a1b2c3d4e5f6');
    expect(parseConfig({ NAME: str() }, { NAME: 'REPLACE_ME' }).NAME).toBe('REPLACE_ME');
  });
});

