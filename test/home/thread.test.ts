import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HomePublisher } from '../../src/features/home/publisher.js';
import { HomeThread } from '../../src/features/home/thread.js';
import { DashboardReadModel } from '../../src/store/dashboard.js';
import { HomeStateRepository } from '../../src/store/homeState.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { isoDaysFromNow, seedTasks, viewText } from './seed.js';

const ALICE = 'UALICE';
const DAY = 24 * 60 * 60_000;

/** The nice value of each thread of this process (Linux), main thread first. */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task')
    .sort((a, b) => Number(a) - Number(b))
    .map((tid) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]));
}

describe('App Home publisher thread', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.dispose();
  });

  const publishesTo = (userId: string) => t.fake.callsTo('views.publish').filter((c) => c.args['user_id'] === userId);

  it.runIf(process.platform === 'linux')('publishes from a worker thread niced below the main thread, which it leaves alone; stop ends it', async () => {
    t = await startTestApp();
    t.fake.addUser({ id: ALICE, teamId: TEAM });
    const niced = () => threadNiceValues().filter((n) => n === 10).length;
    await expect.poll(niced).toBe(1); // the store's checkpoint thread; the Home thread starts with the first publish or bot Web API call
    await t.slack.appHomeOpened({ teamId: TEAM, userId: ALICE });
    await t.settle();
    expect(publishesTo(ALICE)).toHaveLength(1);
    expect(threadNiceValues()[0]).toBe(0); // the main thread (the process) keeps its priority
    expect(niced()).toBe(2);
    await t.stop();
    expect(niced()).toBe(0);
  });

  it('a Home opened just before shutdown is still published: stop waits for the thread', async () => {
    t = await startTestApp();
    t.fake.addUser({ id: ALICE, teamId: TEAM });
    await t.slack.appHomeOpened({ teamId: TEAM, userId: ALICE });
    await t.stop();
    expect(publishesTo(ALICE)).toHaveLength(1);
    expect(t.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('draws the Home with the app’s clock (services.now), not the thread’s own', async () => {
    // The app's clock is 3 days ahead: a task due tomorrow (real time) is overdue in the app.
    t = await startTestApp({ now: () => Date.now() + 3 * DAY });
    t.fake.addUser({ id: ALICE, teamId: TEAM, tz: 'UTC' });
    seedTasks(t.store, TEAM, [{ title: 'Renew the certificate', assigneeId: ALICE, dueDate: isoDaysFromNow(1) }]);
    await t.slack.appHomeOpened({ teamId: TEAM, userId: ALICE });
    await t.settle();
    const text = viewText(t.fake.homeView(ALICE)?.blocks ?? []);
    expect(text).toContain('Renew the certificate');
    expect(text).toContain('1 of yours overdue');
  });

  it('passes the thread’s log lines to the app’s logger (a failed publish is a warning there)', async () => {
    t = await startTestApp();
    t.fake.addUser({ id: ALICE, teamId: TEAM });
    t.fake.failNext('views.publish', { error: 'internal_error' }, 5);
    await t.slack.appHomeOpened({ teamId: TEAM, userId: ALICE });
    await t.settle();
    expect(t.logger.lines.some((l) => l.level === 'warn' && l.message.includes(`could not publish the Home of ${ALICE}`))).toBe(true);
  });

  it('when the thread dies, the Homes it had not published and every later change are published on the main thread', async () => {
    t = await startTestApp();
    t.fake.addUser({ id: ALICE, teamId: TEAM });
    await new HomeStateRepository(t.store).touch(TEAM, ALICE);
    const svc = t.services;
    const inThisThread = () =>
      new HomePublisher({ client: svc.client, dashboard: new DashboardReadModel(svc.store), homeState: new HomeStateRepository(svc.store), users: svc.users, background: svc.background, logger: svc.logger, now: svc.now });
    // A folder is no database: the thread fails as it opens the store.
    const thread = new HomeThread({ data: { databasePath: dirname(t.dbPath), config: svc.config }, logger: svc.logger, background: svc.background, now: svc.now, inThisThread });
    thread.publishNow(TEAM, ALICE);
    await t.settle();
    expect(t.logger.lines.some((l) => l.level === 'error' && l.message.startsWith('home: the publisher thread stopped'))).toBe(true);
    expect(publishesTo(ALICE)).toHaveLength(1);
    seedTasks(t.store, TEAM, [{ title: 'After the thread died', assigneeId: ALICE }]);
    thread.changed(TEAM, [ALICE]);
    await t.settle();
    expect(viewText(t.fake.homeView(ALICE)?.blocks ?? [])).toContain('After the thread died');
    await thread.close();
  });
});
