/**
 * The baseline: a Bolt app with the same receiver as Tasklane (HTTPReceiver, signature checks,
 * /slack/events) whose listeners only ack. Run as its own process by bench/run.ts.
 */
import { baselineApp, serve } from './lib/baseline.js';

const app = baselineApp();
app.command(/.*/, async ({ ack }) => ack());
app.action(/.*/, async ({ ack }) => ack());
app.view(/.*/, async ({ ack }) => ack());
app.shortcut(/.*/, async ({ ack }) => ack());
app.event(/.*/, async () => {});
for (const id of ['request_approval', 'create_task', 'complete_task']) app.function(id, async () => {});

await serve(app, 'bare bolt');
