import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

export interface DatabaseOptions {
  url: string;
  /** Connections this process may hold. Writers batch, so a handful serves thousands of rows per second. */
  poolMax?: number;
  /** Service name shown in `pg_stat_activity`. */
  applicationName?: string;
}

export interface Db {
  db: Kysely<Database>;
  pool: pg.Pool;
  /** True when Postgres answers `SELECT 1` (readiness checks). */
  ping(): Promise<boolean>;
  /** Ends the pool; call last in the shutdown order. */
  close(): Promise<void>;
}

// timestamptz comes back as Date (pg's default); bigint (int8) as a JS number when safe, as the ids we
// store are far below 2^53 and strings would leak into every caller.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : (value as unknown as number);
});

export function createDb(options: DatabaseOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    application_name: options.applicationName ?? 'onair',
    // Fail a query fast when Postgres is unreachable instead of hanging the batch for minutes.
    connectionTimeoutMillis: 5_000,
  });
  // A client whose connection drops (Postgres restart, network cut) emits 'error'. The pool listens only
  // while a client is idle; a checked-out client between two queries would crash the process with an
  // unhandled 'error'. The failed query (or the next one) reports the problem to its caller anyway.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    async ping() {
      await pool.query('SELECT 1');
      return true;
    },
    async close() {
      await db.destroy();
    },
  };
}

/**
 * Creates the database named in `url` if it does not exist, connecting to the `postgres` maintenance
 * database of the same server. Safe when several services start at once.
 */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } catch (error) {
        // 42P04 duplicate_database: another service created it between our check and create.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Drops a database (test teardown). Terminates its sessions first. */
export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
