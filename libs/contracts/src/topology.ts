/**
 * Every stream, subject and durable consumer name on the wire, derived from one optional namespace.
 *
 * Production uses the empty namespace (`CHAT`, `chat.msg.kick.123`). A non-empty namespace prefixes every
 * stream name and subject so that several deployments, or several test files, can share one NATS account
 * without their streams claiming the same subjects.
 */
export interface Topology {
  readonly namespace: string;
  readonly chat: {
    /** Stream holding chat messages from every platform; limits retention so several consumers can read it. */
    readonly stream: string;
    /** Wildcard the chat stream captures. */
    readonly subjects: string;
    /** Subject of one chat message: platform and channel are tokens so consumers can filter per room. */
    subject(platform: string, channelId: string): string;
  };
  readonly events: {
    /** Stream of platform events (live status, follows, subscriptions, gifts, bans). */
    readonly stream: string;
    readonly subjects: string;
    /** Subject of one event; the event type (dotted, e.g. `kicks.gifted`) is the tail so filters can pick it. */
    subject(platform: string, channelId: string, eventType: string): string;
  };
  readonly probes: {
    /** Stream of viewer-count probe results, one message per channel-minute. */
    readonly stream: string;
    readonly subjects: string;
    subject(platform: string, channelId: string): string;
  };
  readonly jobs: {
    /** Work-queue stream of job requests: each message is removed once a worker acks it. */
    readonly stream: string;
    readonly subjects: string;
    subject(jobName: string): string;
    /** Durable consumer of one job's requests (one per job, so each has its own limits). */
    consumer(jobName: string): string;
  };
  readonly deadLetter: {
    /** Stream keeping messages a consumer could never process, with the reason, for a human to look at. */
    readonly stream: string;
    readonly subjects: string;
    subject(consumer: string): string;
  };
  /** Durable consumer names. */
  readonly consumers: {
    readonly chatToPostgres: string;
    readonly chatToClickHouse: string;
    readonly probesToClickHouse: string;
    readonly chatToGateway: string;
    readonly eventsToGateway: string;
    readonly probesToGateway: string;
    /** The chat bot's view of chat (commands) and of events (stream starts and ends). */
    readonly chatToBot: string;
    readonly eventsToBot: string;
    /** The gifts service's view of Kick's kicks.gifted events (recorded as platform gifts). */
    readonly kickGiftsToGifts: string;
  };
}

const NAMESPACE_PATTERN = /^[a-z0-9_-]{0,40}$/;

export function createTopology(namespace = ''): Topology {
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new Error(`NATS namespace "${namespace}" must match ${NAMESPACE_PATTERN}`);
  }
  const subjectPrefix = namespace ? `${namespace}.` : '';
  const streamPrefix = namespace ? `${namespace.toUpperCase().replace(/-/g, '_')}_` : '';
  return {
    namespace,
    chat: {
      stream: `${streamPrefix}CHAT`,
      subjects: `${subjectPrefix}chat.msg.>`,
      subject: (platform, channelId) => `${subjectPrefix}chat.msg.${token(platform)}.${token(channelId)}`,
    },
    events: {
      stream: `${streamPrefix}EVENTS`,
      subjects: `${subjectPrefix}events.>`,
      subject: (platform, channelId, eventType) =>
        `${subjectPrefix}events.${token(platform)}.${token(channelId)}.${eventType
          .split('.')
          .map(token)
          .join('.')}`,
    },
    probes: {
      stream: `${streamPrefix}PROBES`,
      subjects: `${subjectPrefix}probe.result.>`,
      subject: (platform, channelId) => `${subjectPrefix}probe.result.${token(platform)}.${token(channelId)}`,
    },
    jobs: {
      stream: `${streamPrefix}JOBS`,
      subjects: `${subjectPrefix}jobs.>`,
      subject: (jobName) => `${subjectPrefix}jobs.${token(jobName)}`,
      consumer: (jobName) => `job-${token(jobName)}`,
    },
    deadLetter: {
      stream: `${streamPrefix}DEAD_LETTER`,
      subjects: `${subjectPrefix}dlq.>`,
      subject: (consumer) => `${subjectPrefix}dlq.${token(consumer)}`,
    },
    consumers: {
      chatToPostgres: 'chat-writer-pg',
      chatToClickHouse: 'chat-writer-ch',
      probesToClickHouse: 'probe-writer-ch',
      chatToGateway: 'gateway-chat',
      eventsToGateway: 'gateway-events',
      probesToGateway: 'gateway-probes',
      chatToBot: 'chat-bot',
      eventsToBot: 'chat-bot-events',
      kickGiftsToGifts: 'gifts-kick',
    },
  };
}

/**
 * Makes a value safe as one subject token. Ids on the wire are validated upstream; this is the last guard
 * against a `.`, `*`, `>` or whitespace splitting or widening a subject.
 */
function token(value: string): string {
  const safe = value.replace(/[^A-Za-z0-9_-]/g, '_');
  return safe.length > 0 ? safe : '_';
}
