/**
 * A floor for the write surfaces: the bare Bolt app (bench/bareBolt.ts) plus the least a request
 * that changes something can do. Its command listener stores one row in SQLite (WAL,
 * synchronous=NORMAL, one small table, autocommit) before it acks and, with FLOOR_SLACK_CALL=1,
 * makes one Web API call (chat.postMessage, Bolt's own client) after. Run as processes by
 * bench/run.ts and driven with `/task add` requests: how close any app that stores before it
 * answers (and tells Slack afterwards) can come to an app that only acks, on this machine.
 */
import Database from 'better-sqlite3';
import { baselineApp, serve } from './lib/baseline.js';

const db = new Database(process.env.DATABASE_URL as string);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY, team_id TEXT NOT NULL, user_id TEXT NOT NULL, text TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO writes (team_id, user_id, text) VALUES (?, ?, ?)');

const app = baselineApp();
app.command(/.*/, async ({ ack, command, client }) => {
  insert.run(command.team_id, command.user_id, command.text);
  await ack();
  if (process.env.FLOOR_SLACK_CALL === '1') await client.chat.postMessage({ channel: command.channel_id, text: command.text });
});

await serve(app, 'floor bolt');
