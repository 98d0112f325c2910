import type { JsMsg } from '@nats-io/jetstream';
import type { Validator } from '@onair/contracts';
import type { BatchContext } from './batch-consumer';

/**
 * Parses and validates every message of a batch against its contract. A message that is not JSON or not
 * the contract can never be processed, so it is dead-lettered with the reason and left out; the rest of
 * the batch goes on.
 */
export async function decodeBatch<T>(
  batch: JsMsg[],
  validator: Validator<T>,
  context: BatchContext,
  what: string,
): Promise<Array<{ msg: JsMsg; value: T }>> {
  const decoded: Array<{ msg: JsMsg; value: T }> = [];
  for (const msg of batch) {
    let value: unknown;
    try {
      value = msg.json();
    } catch {
      await context.deadLetter(msg, 'payload is not JSON');
      continue;
    }
    if (!validator.check(value)) {
      await context.deadLetter(msg, `payload is not a ${what}: ${validator.firstError(value)}`);
      continue;
    }
    decoded.push({ msg, value });
  }
  return decoded;
}
