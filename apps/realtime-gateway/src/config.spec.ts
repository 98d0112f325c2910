import { describe, expect, it } from 'vitest';
import { ConfigError } from '@onair/service-kit';
import { parseGatewayConfig } from './config';

const SECRETS = { SESSION_JWT_SECRET: 'gateway-config-spec-secret-0123456789ab', PUSHER_APP_KEY: 'k', PUSHER_APP_SECRET: 's' };

describe('gateway config', () => {
  it('has no default Pusher key or secret: without them it refuses to start, naming both', () => {
    let caught: unknown;
    try {
      parseGatewayConfig({ SESSION_JWT_SECRET: SECRETS.SESSION_JWT_SECRET });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe('PUSHER_APP_KEY, PUSHER_APP_SECRET');
  });

  it('reads the limits, the trusted proxies and the metrics token', () => {
    const config = parseGatewayConfig({ ...SECRETS, TRUST_PROXY: '10.0.0.0/8', HISTORY_RATE_BURST: '7', METRICS_TOKEN: 'metrics-token-0123456789abcdef' });
    expect(config).toMatchObject({ TRUST_PROXY: ['10.0.0.0/8'], HISTORY_RATE_BURST: 7, HISTORY_RATE_PER_S: 5, AUTH_RATE_BURST: 30 });
    expect(() => parseGatewayConfig({ ...SECRETS, TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/);
  });
});
