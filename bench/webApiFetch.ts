// CPU per Web API call of the WebClient's fetch: `npx tsx bench/webApiFetch.ts [other.ts]`.
// chat.postMessage against the fake Slack (in a child process, so only the client's CPU is
// counted), N sequential then N concurrent calls, repeated, alternating the fetches compared:
// keepAliveFetch, Node's global fetch, and the `keepAliveFetch` of another module if given
// (e.g. an older version: `git show <rev>:src/slack/keepAliveFetch.ts > /tmp/old.ts`).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { WebClient } from '@slack/web-api';
import { FakeSlack } from '../src/sandbox/fakeSlack.js';
import { keepAliveFetch } from '../src/slack/keepAliveFetch.js';

const N = Number(process.env.BENCH_CALLS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

if (process.argv[2] === '--fake') {
  const fake = await FakeSlack.start({ keepCalls: 100 });
  fake.addUser({ id: 'UBENCH001', teamId: 'TBENCH001' });
  process.stdout.write(`${JSON.stringify({ apiUrl: fake.apiUrl, token: fake.botToken, channel: fake.dmChannel('UBENCH001') })}\n`);
} else {
  const child = spawn(process.execPath, ['--import', 'tsx', process.argv[1] as string, '--fake'], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill());
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const target = JSON.parse(line.toString()) as { apiUrl: string; token: string; channel: string };

  const fetches: Record<string, typeof fetch> = { keepAliveFetch: keepAliveFetch(), 'global fetch': fetch };
  if (process.argv[2]) fetches[process.argv[2]] = ((await import(pathToFileURL(process.argv[2]).href)) as { keepAliveFetch: () => typeof fetch }).keepAliveFetch();
  const clients = Object.entries(fetches).map(([name, f]) => ({ name, client: new WebClient(target.token, { slackApiUrl: target.apiUrl, fetch: f, retryConfig: { retries: 0 } }) }));
  const post = (client: WebClient) => client.chat.postMessage({ channel: target.channel, text: 'bench' });

  /** µs of this process's CPU per call. */
  async function measure(client: WebClient, concurrent: boolean): Promise<number> {
    const start = process.cpuUsage();
    if (concurrent) await Promise.all(Array.from({ length: N }, () => post(client)));
    else for (let i = 0; i < N; i++) await post(client);
    const used = process.cpuUsage(start);
    return (used.user + used.system) / N;
  }

  for (const { client } of clients) for (let i = 0; i < 200; i++) await post(client); // warm-up
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order each round so neither side always runs first.
    for (const { name, client } of round % 2 ? [...clients].reverse() : clients) {
      for (const concurrent of [false, true]) {
        const key = `${name}, ${concurrent ? 'concurrent' : 'sequential'}`;
        results.set(key, [...(results.get(key) ?? []), await measure(client, concurrent)]);
      }
    }
  }
  for (const [key, us] of results) {
    const sorted = [...us].sort((a, b) => a - b);
    process.stdout.write(`${key.padEnd(60)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} µs/call (${sorted.map((u) => u.toFixed(0)).join(' ')})\n`);
  }
  child.kill();
  process.exit(0);
}
