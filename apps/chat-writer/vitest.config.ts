import { defineConfig } from 'vitest/config';

// Fault tests wait out real outages (30 s of Postgres refusing connections) and process restarts.
export default defineConfig({ test: { testTimeout: 240_000, hookTimeout: 120_000 } });
