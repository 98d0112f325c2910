import { nanos } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { ConsumerDefinition, StreamDefinition } from '@onair/contracts';
import { StreamConflictError, StreamRejectedError } from './errors';

function toStreamConfig(def: StreamDefinition): Partial<StreamConfig> & { name: string } {
  return {
    name: def.name,
    subjects: def.subjects,
    retention: def.retention as RetentionPolicy,
    storage: def.storage as StorageType,
    discard: def.discard as DiscardPolicy,
    max_age: nanos(def.maxAgeMs),
    max_bytes: def.maxBytes,
    duplicate_window: nanos(def.duplicateWindowMs),
    num_replicas: def.replicas,
  };
}

/**
 * Creates each stream, or brings an existing one to the definition. Safe to run from every replica at
 * every start: creating an identical stream twice is a no-op on the server. The replica count changes in
 * place too (a clustered server copies the stream to more nodes, or drops copies); a single server takes
 * only 1 and refuses more with an error naming the stream.
 */
export async function ensureStreams(jsm: JetStreamManager, defs: StreamDefinition[]): Promise<void> {
  for (const def of defs) {
    const wanted = toStreamConfig(def);
    let info: StreamInfo | undefined;
    try {
      info = await jsm.streams.info(def.name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!info) {
      try {
        await jsm.streams.add(wanted);
        continue;
      } catch (error) {
        // Another replica may have won the race with a different config version: compare with it.
        // Otherwise the add's own error (e.g. insufficient storage) is the one worth reporting.
        info = await jsm.streams.info(def.name).catch(() => undefined);
        if (!info) throw rejected(def, 'create', error);
      }
    }
    const current = info.config;
    // A lone server refuses to create a stream with more than one replica, but (2.9) takes the same count
    // in an update and keeps one copy: refuse here, or the config would promise copies that do not exist.
    if (def.replicas > 1 && !info.cluster) {
      throw new StreamRejectedError(def.name, `stream ${def.name}: ${def.replicas} replicas need a JetStream cluster; this server runs alone`);
    }
    if (current.retention !== wanted.retention || current.storage !== wanted.storage) {
      throw new StreamConflictError(
        `stream ${def.name} exists with retention=${current.retention} storage=${current.storage}; ` +
          `wanted ${wanted.retention}/${wanted.storage}, which cannot change in place`,
      );
    }
    const differs =
      current.discard !== wanted.discard ||
      current.max_age !== wanted.max_age ||
      current.max_bytes !== wanted.max_bytes ||
      current.duplicate_window !== wanted.duplicate_window ||
      // Older servers may leave num_replicas unset on a stream created without it: that is one copy.
      (current.num_replicas || 1) !== wanted.num_replicas ||
      current.subjects.join(',') !== def.subjects.join(',');
    if (differs) await jsm.streams.update(def.name, { ...current, ...wanted }).catch((error: unknown) => {
      throw rejected(def, 'update', error);
    });
  }
}

function rejected(def: StreamDefinition, action: 'create' | 'update', error: unknown): Error {
  if (!(error instanceof JetStreamApiError)) return error instanceof Error ? error : new Error(String(error));
  return new StreamRejectedError(def.name, `could not ${action} stream ${def.name} (replicas ${def.replicas}): ${error.message}`, { cause: error });
}

/** Creates a durable pull consumer, or updates the settings that may change on an existing one. */
export async function ensureConsumer(jsm: JetStreamManager, def: ConsumerDefinition): Promise<void> {
  const config = {
    durable_name: def.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(def.ackWaitMs),
    max_deliver: def.maxDeliver,
    max_ack_pending: def.maxAckPending,
    ...(def.filterSubject ? { filter_subject: def.filterSubject } : {}),
  };
  try {
    const info = await jsm.consumers.info(def.stream, def.durable);
    const c = info.config;
    if (c.ack_wait !== config.ack_wait || c.max_deliver !== config.max_deliver || c.max_ack_pending !== config.max_ack_pending) {
      await jsm.consumers.update(def.stream, def.durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
      });
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(def.stream, config);
  }
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound)
  );
}
