import PusherClient from 'pusher-js';

/**
 * A pusher-js client as a browser would open it (WebSocket only, no TLS on loopback), authorising private
 * and presence channels at the gateway with the session token, if any.
 */
export function pusherClient(options: { key: string; host: string; port: number; gatewayUrl: string; token?: string }): PusherClient {
  return new PusherClient(options.key, {
    wsHost: options.host,
    wsPort: options.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: 'mt1',
    disableStats: true,
    channelAuthorization: {
      endpoint: `${options.gatewayUrl}/pusher/auth`,
      transport: 'ajax',
      headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
    },
  });
}
