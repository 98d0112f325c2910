import { defineConfig } from 'vitest/config';

// Consumer re-creation waits for the client's missed-heartbeat detection (tens of seconds).
export default defineConfig({ test: { testTimeout: 120_000 } });
