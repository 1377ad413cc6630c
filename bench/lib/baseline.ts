/**
 * The Bolt app both baselines start from (bench/bareBolt.ts, bench/floorBolt.ts): the same
 * receiver as Tasklane (HTTPReceiver, signature checks, /slack/events), the fake Slack's Web API,
 * no conversation store. Configured from the environment bench/run.ts gives each process.
 */
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

export function baselineApp(): App {
  const receiver = new HTTPReceiver({
    signingSecret: process.env.SLACK_SIGNING_SECRET as string,
    endpoints: '/slack/events',
    logLevel: LogLevel.ERROR,
  });
  return new App({
    receiver,
    authorize: async () => ({ botToken: process.env.SLACK_BOT_TOKEN as string, botId: 'BBENCH', botUserId: 'UBENCHBOT' }),
    clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
    logLevel: LogLevel.ERROR,
    convoStore: false,
  });
}

/** Listens on PORT and stops cleanly on SIGTERM (bench/run.ts stops every process so). */
export async function serve(app: App, name: string): Promise<void> {
  await app.start(Number(process.env.PORT));
  console.log(`${name} listening`);
  process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
}
