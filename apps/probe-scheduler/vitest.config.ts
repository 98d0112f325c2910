import { defineConfig } from 'vitest/config';

// Simulated hours of ticks against real Postgres and NATS take seconds, more on a loaded machine.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 60_000 } });
