import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export type KickKey = KeyObject;

export function loadKickKey(pem: string): KickKey {
  return createPublicKey(pem);
}

/**
 * Kick signs `<message id>.<timestamp>.<raw body>` with RSA PKCS#1 v1.5 over SHA-256 and sends the
 * signature base64-encoded. The raw bytes are verified, never a re-serialised JSON.
 *
 * The check runs on libuv's thread pool (the callback form of `crypto.verify`): the RSA operation is
 * a quarter of a webhook's CPU, and off the event loop it uses another core instead of delaying every
 * other request.
 */
export function verifyKickSignature(
  key: KickKey,
  messageId: string,
  timestamp: string,
  rawBody: Buffer,
  signatureBase64: string,
): Promise<boolean> {
  const signature = Buffer.from(signatureBase64, 'base64');
  if (signature.length === 0) return Promise.resolve(false);
  const signed = Buffer.concat([Buffer.from(`${messageId}.${timestamp}.`), rawBody]);
  return new Promise((resolve) => {
    try {
      verify('sha256', signed, key, signature, (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false);
    }
  });
}

/** Kick's timestamp header is RFC 3339; Unix seconds are accepted too. Returns ms, or undefined. */
export function parseKickTimestamp(value: string): number | undefined {
  if (/^\d{9,11}$/.test(value)) return Number(value) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
