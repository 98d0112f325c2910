import { AccessToken } from 'livekit-server-sdk';
import type { SessionUser } from '@onair/session';

export interface LiveKitConfig {
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Lifetime of a join token, in seconds. */
  ttlS: number;
}

/**
 * A LiveKit join token with the least privilege that works: every user may join and subscribe; only
 * the room's owner may publish media and data.
 */
export async function joinToken(config: LiveKitConfig, user: SessionUser, roomId: string): Promise<{ url: string; token: string }> {
  const owner = user.ownsRooms.includes(roomId);
  const at = new AccessToken(config.apiKey, config.apiSecret, { identity: user.id, name: user.name, ttl: config.ttlS });
  at.addGrant({
    room: roomId,
    roomJoin: true,
    canSubscribe: true,
    canPublish: owner,
    canPublishData: owner,
  });
  return { url: config.url, token: await at.toJwt() };
}
