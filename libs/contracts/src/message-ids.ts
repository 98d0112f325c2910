import { randomFillSync } from 'node:crypto';

/**
 * First-party chat message ids are UUIDv7 (RFC 9562): the first 48 bits are the Unix time in ms when the
 * client made the id. Ingest takes a message's `sentAt` from its id, so the stored row's key
 * (`platform, message_id, sent_at`) is a function of the id alone and a late retry collides with the first
 * copy; and it accepts an id only while it is young (its time within the dedupe bound of now), so every
 * retry it accepts falls inside JetStream's duplicate window and is answered `duplicate: true`.
 */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The creation time (ms) a UUIDv7 carries, or undefined when `id` is not a lower-case UUIDv7. */
export function uuidV7Time(id: string): number | undefined {
  if (!UUID_V7.test(id)) return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** A new UUIDv7 for the instant `nowMs` (74 random bits). */
export function uuidV7(nowMs: number): string {
  const bytes = randomFillSync(Buffer.alloc(16));
  bytes.writeUIntBE(Math.floor(nowMs), 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
