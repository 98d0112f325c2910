/**
 * Polls `probe` until it returns a value `done` accepts. Tests wait for outcomes this way rather than
 * sleeping: the deadline only turns a hang into a failure with the last value seen, it asserts no speed.
 */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const until = Date.now() + (options.timeoutMs ?? 60_000);
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (error) {
      if (Date.now() > until) throw error;
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}; last value: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
