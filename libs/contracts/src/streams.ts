import type { Topology } from './topology';

/** Stream settings that deployments tune; everything else about the streams is fixed here. */
export interface StreamLimits {
  /** How long chat stays in the stream, in milliseconds. Consumers further behind than this lose messages. */
  chatMaxAgeMs: number;
  /** Byte cap of the chat stream. When full, new publishes are refused (discard new) and ingest answers 503. */
  chatMaxBytes: number;
  /** How long platform events stay in the stream, in milliseconds. */
  eventsMaxAgeMs: number;
  /** Byte cap of the events stream. */
  eventsMaxBytes: number;
  /** Byte cap of the probes stream (enough for ClickHouse to be down over a weekend). */
  probesMaxBytes: number;
  /**
   * Duplicate window of the chat and events streams, in milliseconds: how long the ids of webhooks and
   * messages are remembered. It must cover every replay ingest can still accept (signature windows).
   */
  dedupeWindowMs: number;
  /**
   * Copies JetStream keeps of every stream (`num_replicas`): 1 on a single server, 3 on a three-node
   * cluster so that losing a node loses no stored message. Consumers follow their stream's count.
   */
  replicas: number;
}

/**
 * A plain description of a stream, in the JetStream API's own field names, so the messaging lib can hand it
 * to the server unchanged and compare it with what the server has. Durations are in milliseconds here;
 * the messaging lib converts to nanoseconds.
 */
export interface StreamDefinition {
  name: string;
  subjects: string[];
  retention: 'limits' | 'workqueue' | 'interest';
  storage: 'file' | 'memory';
  discard: 'old' | 'new';
  maxAgeMs: number;
  maxBytes: number;
  /** Window in which a repeated `Nats-Msg-Id` is recognised as a duplicate, in milliseconds. */
  duplicateWindowMs: number;
  /** Copies kept across a cluster's servers (`num_replicas`); 1 on a single server. */
  replicas: number;
}

export interface ConsumerDefinition {
  stream: string;
  durable: string;
  /** Subject filter inside the stream; omitted means the whole stream. */
  filterSubject?: string;
  /** How long the server waits for an ack before redelivering, in milliseconds. */
  ackWaitMs: number;
  /**
   * Deliveries after which the server stops redelivering (-1: never). Database outages must not exhaust it,
   * so writers keep it unlimited and term a message themselves when it can never be written.
   */
  maxDeliver: number;
  /** Upper bound of unacknowledged messages across all replicas sharing the consumer. */
  maxAckPending: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  chatMaxAgeMs: 7 * DAY,
  chatMaxBytes: 8 * 1024 ** 3,
  eventsMaxAgeMs: 30 * DAY,
  eventsMaxBytes: 1024 ** 3,
  probesMaxBytes: 2 * 1024 ** 3,
  dedupeWindowMs: 11 * MINUTE,
  replicas: 1,
};

/** Stream limits from the common config variables (hours, bytes, seconds, copies), defaults for the rest. */
export function streamLimits(config: {
  CHAT_MAX_AGE_HOURS: number;
  CHAT_MAX_BYTES: number;
  EVENTS_MAX_BYTES?: number;
  PROBES_MAX_BYTES?: number;
  DEDUPE_WINDOW_S: number;
  NATS_STREAM_REPLICAS: number;
}): StreamLimits {
  return {
    ...DEFAULT_STREAM_LIMITS,
    chatMaxAgeMs: config.CHAT_MAX_AGE_HOURS * 3_600_000,
    chatMaxBytes: config.CHAT_MAX_BYTES,
    eventsMaxBytes: config.EVENTS_MAX_BYTES ?? DEFAULT_STREAM_LIMITS.eventsMaxBytes,
    probesMaxBytes: config.PROBES_MAX_BYTES ?? DEFAULT_STREAM_LIMITS.probesMaxBytes,
    dedupeWindowMs: config.DEDUPE_WINDOW_S * 1000,
    replicas: config.NATS_STREAM_REPLICAS,
  };
}

export function streamDefinitions(topology: Topology, limits: StreamLimits): StreamDefinition[] {
  return [
    {
      name: topology.chat.stream,
      subjects: [topology.chat.subjects],
      // Limits (not work-queue) retention: the gateway and a future chat bot read the same messages.
      retention: 'limits',
      storage: 'file',
      // Discard new: a full stream refuses the publish so ingest answers 503 instead of silently evicting.
      discard: 'new',
      maxAgeMs: limits.chatMaxAgeMs,
      maxBytes: limits.chatMaxBytes,
      // Ids are remembered as long as a replay could still pass ingest's checks (see dedupeWindowMs).
      duplicateWindowMs: limits.dedupeWindowMs,
      replicas: limits.replicas,
    },
    {
      name: topology.events.stream,
      subjects: [topology.events.subjects],
      retention: 'limits',
      storage: 'file',
      discard: 'new',
      maxAgeMs: limits.eventsMaxAgeMs,
      maxBytes: limits.eventsMaxBytes,
      // A replayed kicks.gifted must not count twice: same window as chat.
      duplicateWindowMs: limits.dedupeWindowMs,
      replicas: limits.replicas,
    },
    {
      name: topology.probes.stream,
      subjects: [topology.probes.subjects],
      retention: 'limits',
      storage: 'file',
      discard: 'old',
      // Long enough for ClickHouse to be down over a weekend and still catch up.
      maxAgeMs: 7 * DAY,
      maxBytes: limits.probesMaxBytes,
      duplicateWindowMs: 2 * MINUTE,
      replicas: limits.replicas,
    },
    {
      name: topology.jobs.stream,
      subjects: [topology.jobs.subjects],
      // Work queue: a request is gone once acked, and each job's consumer takes only its own subject.
      retention: 'workqueue',
      storage: 'file',
      discard: 'old',
      maxAgeMs: 7 * DAY,
      maxBytes: 64 * 1024 ** 2,
      // Every replica enqueues each period; one copy is kept however many ticks fall in this window.
      duplicateWindowMs: 10 * MINUTE,
      replicas: limits.replicas,
    },
    {
      name: topology.deadLetter.stream,
      subjects: [topology.deadLetter.subjects],
      retention: 'limits',
      storage: 'file',
      // Old dead letters give way to new ones: losing the newest failure would hide an ongoing problem.
      discard: 'old',
      maxAgeMs: 30 * DAY,
      maxBytes: 256 * 1024 ** 2,
      duplicateWindowMs: 2 * MINUTE,
      replicas: limits.replicas,
    },
  ];
}

export function chatToPostgresConsumer(topology: Topology): ConsumerDefinition {
  return {
    stream: topology.chat.stream,
    durable: topology.consumers.chatToPostgres,
    ackWaitMs: 30_000,
    maxDeliver: -1,
    maxAckPending: 20_000,
  };
}

export function chatToClickHouseConsumer(topology: Topology): ConsumerDefinition {
  return {
    stream: topology.chat.stream,
    durable: topology.consumers.chatToClickHouse,
    ackWaitMs: 30_000,
    maxDeliver: -1,
    maxAckPending: 20_000,
  };
}

export function probesToClickHouseConsumer(topology: Topology): ConsumerDefinition {
  return {
    stream: topology.probes.stream,
    durable: topology.consumers.probesToClickHouse,
    ackWaitMs: 30_000,
    maxDeliver: -1,
    maxAckPending: 20_000,
  };
}

/**
 * One job's durable consumer. max_ack_pending 1 makes the job run at most once at a time across every
 * worker of every replica; ack_wait is how long a worker may go silent (jobs send progress heartbeats).
 */
export function jobConsumer(topology: Topology, jobName: string, options: { ackWaitMs: number; maxDeliver: number }): ConsumerDefinition {
  return {
    stream: topology.jobs.stream,
    durable: topology.jobs.consumer(jobName),
    filterSubject: topology.jobs.subject(jobName),
    ackWaitMs: options.ackWaitMs,
    maxDeliver: options.maxDeliver,
    maxAckPending: 1,
  };
}

/**
 * The realtime gateway's view of chat. Live fan-out is only worth it while fresh: a message older than
 * a few ack waits is left to history (gap recovery), so few redeliveries are allowed.
 */
export function chatToGatewayConsumer(topology: Topology): ConsumerDefinition {
  return {
    stream: topology.chat.stream,
    durable: topology.consumers.chatToGateway,
    ackWaitMs: 10_000,
    maxDeliver: 5,
    maxAckPending: 10_000,
  };
}

/** The realtime gateway's view of platform events (gifts, follows, live status). */
export function eventsToGatewayConsumer(topology: Topology): ConsumerDefinition {
  return { stream: topology.events.stream, durable: topology.consumers.eventsToGateway, ackWaitMs: 10_000, maxDeliver: 5, maxAckPending: 10_000 };
}

/** The realtime gateway's view of probe results: viewer counts for rooms. */
export function probesToGatewayConsumer(topology: Topology): ConsumerDefinition {
  return { stream: topology.probes.stream, durable: topology.consumers.probesToGateway, ackWaitMs: 10_000, maxDeliver: 5, maxAckPending: 10_000 };
}

/**
 * The chat bot's view of chat: every message passes, commands are a few percent of them. Shared by every
 * bot replica; a database outage must not exhaust deliveries (the bot naks with backoff and terms what can
 * never be handled), so redelivery is unlimited.
 */
export function chatToBotConsumer(topology: Topology): ConsumerDefinition {
  return { stream: topology.chat.stream, durable: topology.consumers.chatToBot, ackWaitMs: 30_000, maxDeliver: -1, maxAckPending: 10_000 };
}

/** The chat bot's view of events: stream starts and ends (`livestream.status.updated`, LiveKit rooms) place clips. */
export function eventsToBotConsumer(topology: Topology): ConsumerDefinition {
  return { stream: topology.events.stream, durable: topology.consumers.eventsToBot, ackWaitMs: 30_000, maxDeliver: -1, maxAckPending: 1_000 };
}

/** The gifts service's view of Kick's gifts: only `kicks.gifted`, from every channel. */
export function kickGiftsConsumer(topology: Topology): ConsumerDefinition {
  return {
    stream: topology.events.stream,
    durable: topology.consumers.kickGiftsToGifts,
    // events.kick.<channel>.kicks.gifted, under the namespace's prefix.
    filterSubject: topology.events.subjects.replace(/>$/, 'kick.*.kicks.gifted'),
    ackWaitMs: 30_000,
    maxDeliver: -1,
    maxAckPending: 1_000,
  };
}
