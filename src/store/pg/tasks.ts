import type { TasksStore } from '../tasksStore.js';
import { PgTaskWrites } from './taskWrites.js';

/**
 * The tasks store on PostgreSQL: the same methods, results, audit rows and effects as the SQLite
 * `TasksRepository` (../tasks.ts, which documents each method); test/store/tasksContract.test.ts
 * runs one suite on both. Every change is one `db.transaction` on one pooled connection. Its reads
 * are in ./taskReads.ts, its changes in ./taskWrites.ts.
 *
 * SQLite runs one writer at a time; here transactions from any number of connections and
 * instances run at once (READ COMMITTED), so what SQLite gets from that is asked for explicitly:
 * - task numbers: the workspace's `team_counters` row is upserted and incremented by the statement
 *   that inserts the task; its row lock queues the workspace's other creators until commit, so
 *   numbers are dense and unique, other workspaces are not held up, and a create that rolls back
 *   gives its number back;
 * - a change that reads the task before writing it (edit, assign, delete, comment) locks the row
 *   (`FOR UPDATE`): two edits of one task see each other's result, as they would on SQLite;
 * - complete, reopen and step transitions are single conditional UPDATEs: PostgreSQL evaluates
 *   the condition again on the row a concurrent change left, so exactly one of two racers wins.
 * Where SQLite quietly takes a value PostgreSQL refuses, it is met here: an id or number no
 * column can hold (NaN, a fraction, out of range) finds no task instead of failing the query, and
 * a NUL character, which PostgreSQL text cannot hold, is dropped from what people typed.
 */
export class PgTasksRepository extends PgTaskWrites implements TasksStore {}
