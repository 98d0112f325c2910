/**
 * JetStream could not take a message: NATS is unreachable, the stream is full, or the PubAck did not come in
 * time. The message may or may not be stored; the caller must not report it as accepted, and a retry with
 * the same msgID is safe (the stream's duplicate window drops a second copy).
 */
export class PublishUnavailableError extends Error {
  override readonly name = 'PublishUnavailableError';
  constructor(
    readonly reason: 'disconnected' | 'stream_full' | 'timeout' | 'rejected',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A stream exists with settings that cannot be changed in place (retention or storage). */
export class StreamConflictError extends Error {
  override readonly name = 'StreamConflictError';
}

/**
 * The server refused to create or update a stream as defined, e.g. more replicas than the cluster has
 * servers (or any above 1 on a single server). The message names the stream; `cause` is the server's answer.
 */
export class StreamRejectedError extends Error {
  override readonly name = 'StreamRejectedError';
  constructor(
    readonly stream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
