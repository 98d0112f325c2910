import { defineConfig } from 'vitest/config';

// Replica tests SIGKILL bot processes mid-burst and wait for redeliveries (ack wait) to settle.
export default defineConfig({ test: { testTimeout: 180_000, hookTimeout: 120_000 } });
