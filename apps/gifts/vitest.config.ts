import { defineConfig } from 'vitest/config';

// The fault tests SIGKILL the service mid-burst and cut NATS off.
export default defineConfig({ test: { testTimeout: 180_000, hookTimeout: 120_000 } });
