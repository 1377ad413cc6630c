import { once } from 'node:events';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { migratePostgres } from '../../src/store/pg/migrate.js';

/**
 * One "instance starting": `node --import tsx test/support/pgMigrateProcess.ts <database url>`
 * connects, prints `ready`, waits for a line on stdin (so the test can start several at the same
 * moment), migrates, prints `migrated` and exits 0.
 */
const url = process.argv[2];
if (url === undefined) throw new Error('usage: pgMigrateProcess.ts <database url>');
const pool = new pg.Pool({ connectionString: url, max: 2 });
await pool.query('SELECT 1');
console.log('ready');
const stdin = createInterface({ input: process.stdin });
await once(stdin, 'line');
stdin.close();
await migratePostgres(pool);
console.log('migrated');
await pool.end();
