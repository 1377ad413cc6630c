/**
 * The baseline: a Bolt app with the same receiver as Tasklane (HTTPReceiver, signature checks,
 * /slack/events) whose listeners only ack. Run as its own process by bench/run.ts.
 */
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET as string,
  endpoints: '/slack/events',
  logLevel: LogLevel.ERROR,
});
const app = new App({
  receiver,
  authorize: async () => ({ botToken: process.env.SLACK_BOT_TOKEN as string, botId: 'BBENCH', botUserId: 'UBENCHBOT' }),
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  logLevel: LogLevel.ERROR,
  convoStore: false,
});
app.command(/.*/, async ({ ack }) => ack());
app.action(/.*/, async ({ ack }) => ack());
app.view(/.*/, async ({ ack }) => ack());
app.shortcut(/.*/, async ({ ack }) => ack());
app.event(/.*/, async () => {});
for (const id of ['request_approval', 'create_task', 'complete_task']) app.function(id, async () => {});

await app.start(Number(process.env.PORT));
console.log('bare bolt listening');
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
