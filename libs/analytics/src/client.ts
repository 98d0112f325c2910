import { createClient, type ClickHouseClient } from '@clickhouse/client';

export interface AnalyticsOptions {
  /** ClickHouse HTTP endpoint, e.g. http://127.0.0.1:8123 (credentials may be in the URL). */
  url: string;
  /** Database holding our tables; created if missing. */
  database: string;
  /** Milliseconds before a request is abandoned. */
  requestTimeoutMs?: number;
}

export interface Analytics {
  client: ClickHouseClient;
  database: string;
  /** True when `SELECT 1` answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function connectAnalytics(options: AnalyticsOptions): Promise<Analytics> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.database)) {
    throw new Error(`ClickHouse database name "${options.database}" is not a plain identifier`);
  }
  const common = {
    url: options.url,
    request_timeout: options.requestTimeoutMs ?? 30_000,
    clickhouse_settings: {
      // Our timestamps are ISO 8601 with a zone designator; the default parser refuses the `Z`.
      date_time_input_format: 'best_effort' as const,
    },
  };
  const bootstrap = createClient(common);
  try {
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${options.database}` });
  } finally {
    await bootstrap.close();
  }
  const client = createClient({ ...common, database: options.database });
  return {
    client,
    database: options.database,
    async ping() {
      const result = await client.ping();
      return result.success;
    },
    close: () => client.close(),
  };
}

/** Drops a database (test teardown). */
export async function dropAnalyticsDatabase(url: string, database: string): Promise<void> {
  const client = createClient({ url });
  try {
    await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  } finally {
    await client.close();
  }
}

/**
 * Connects and migrates, retrying every `retryMs` until ClickHouse answers, then calls `onReady`. For
 * services whose ClickHouse path is optional: it runs in the background, so ClickHouse being down at
 * start holds nothing else up (its rows wait in their JetStream stream meanwhile).
 */
export function connectAnalyticsInBackground(
  options: AnalyticsOptions & {
    migrate: (analytics: Analytics) => Promise<unknown>;
    onReady: (analytics: Analytics) => Promise<void>;
    onRetry: (error: unknown, attempt: number) => void;
    retryMs?: number;
  },
): void {
  void (async () => {
    for (let attempt = 1; ; attempt++) {
      let analytics: Analytics | undefined;
      try {
        analytics = await connectAnalytics(options);
        await options.migrate(analytics);
        await options.onReady(analytics);
        return;
      } catch (error) {
        await analytics?.close().catch(() => undefined);
        options.onRetry(error, attempt);
        await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 5_000));
      }
    }
  })();
}
