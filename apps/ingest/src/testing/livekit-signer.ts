import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * Signs a webhook body the way a LiveKit server does: an HS256 token from the API key and secret whose
 * `sha256` claim is the base64 SHA-256 of the body, sent as the Authorization header.
 */
export async function signLiveKitWebhook(
  body: string,
  credentials: { apiKey: string; apiSecret: string },
  options: { expiresInS?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sha256: createHash('sha256').update(body).digest('base64') })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(credentials.apiKey)
    .setNotBefore(now - 60)
    .setExpirationTime(now + (options.expiresInS ?? 300))
    .sign(new TextEncoder().encode(credentials.apiSecret));
}
