import { dropDatabase, ensureDatabaseExists } from '../connect';

/**
 * A throwaway database per test file on the server of `DATABASE_URL`: `onair_test_<name>`, dropped and
 * created anew, so test files never see each other's rows.
 */
export async function createTestDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const base = new URL(process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/onair');
  base.pathname = `/onair_test_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
  const url = base.toString();
  await dropDatabase(url);
  await ensureDatabaseExists(url);
  return { url, drop: () => dropDatabase(url) };
}
