import { defineConfig } from 'vitest/config';

// Redelivery tests wait out short ack_wait timers on a real NATS server.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 60_000 } });
