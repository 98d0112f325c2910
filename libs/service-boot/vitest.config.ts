import { defineConfig } from 'vitest/config';

// Tests run against real NATS and Postgres; on a busy 2-core machine a spec can take longer than vitest's 5 s.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
