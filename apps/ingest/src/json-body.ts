import { HttpError } from '@onair/service-kit';

/** Parses a raw JSON body; anything but a JSON object is a 400. */
export function parseJsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) throw new HttpError(400, 'invalid_json', 'Body is required');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'Body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'invalid_json', 'Body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The raw body fastify kept for us; an empty buffer when the request had none. */
export function rawBody(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}
