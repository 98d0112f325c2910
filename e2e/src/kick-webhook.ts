import { sign, type KeyObject } from 'node:crypto';

/**
 * The headers Kick sends with a webhook, signed as Kick signs them (RSA-SHA256 over
 * `<message id>.<timestamp>.<raw body>`) with the test's own key pair: ingest holds the public half.
 */
export function kickWebhookHeaders(privateKey: KeyObject, options: { id: string; timestamp: string; type: string; body: string }): Record<string, string> {
  return {
    'content-type': 'application/json',
    'kick-event-message-id': options.id,
    'kick-event-message-timestamp': options.timestamp,
    'kick-event-signature': sign('sha256', Buffer.from(`${options.id}.${options.timestamp}.${options.body}`), privateKey).toString('base64'),
    'kick-event-type': options.type,
    'kick-event-version': '1',
  };
}
