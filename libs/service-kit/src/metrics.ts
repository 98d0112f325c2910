import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per service instance (not prom-client's global one), so tests can build several apps in one
 * process without "metric already registered" errors.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The metric `name` already on `registry` (made by another client or consumer in this process), or a new
 * one from `make`. prom-client throws "already registered" for a second metric of the same name, and
 * several instances of one lib may share a service's registry.
 */
export function registerOnce<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
