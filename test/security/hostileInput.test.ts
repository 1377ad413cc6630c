// Against hostile input, through signed HTTP into the real app: every text entry point is
// fed random unicode, mrkdwn control sequences, huge and empty strings (fast-check, seeded). For
// every input: the request is answered 2xx, nothing is logged as a crash, Slack refuses nothing the
// app sent, and nothing Slack received carries a ping, mention or link made from the input.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INPUT, REQUEST_INPUT } from '../../src/features/approvals/views.js';
import { COMMENT_FIELD, NEW_TASK_FIELD } from '../../src/features/tasks/views.js';
import { ACTION, FUNCTION, SHORTCUT } from '../../src/slack/ids.js';
import { isBlank } from '../../src/slack/inputText.js';
import type { FakeView } from '../../src/sandbox/fakeSlack.js';
import { findElement, type ViewSubmissionResult } from '../../src/sandbox/driver.js';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';
import { expectClean, fcParams, hostileShort, hostileText, mark, type Allowed } from './support.js';

const ANN = 'UANN00001'; // creates tasks, requests approvals
const BOB = 'UBOB00002'; // assignee
const CAT = 'UCAT00003'; // approver
const CHANNEL = 'CGENERAL1';

// Each property sends one to a few hundred requests; a timed-out property would go on running
// into the next test, so the budget is generous (the whole file takes well under a minute).
vi.setConfig({ testTimeout: 120_000 });

let t: TestApp;
let allowed: Allowed;

beforeAll(async () => {
  t = await startTestApp();
  t.fake.addUser({ id: ANN, teamId: TEAM, name: 'ann', tz: 'Europe/Paris' });
  t.fake.addUser({ id: BOB, teamId: TEAM, name: 'bob', tz: 'America/New_York' });
  t.fake.addUser({ id: CAT, teamId: TEAM, name: 'cat' });
  t.fake.addChannel({ id: CHANNEL, teamId: TEAM, name: 'general', botIsMember: true });
  allowed = { users: new Set([ANN, BOB, CAT, t.fake.botUserId]), channels: new Set([CHANNEL]) };
  // Nobody opens the Home until the last test, which draws it from everything made before (a
  // Home open all along would be redrawn after every change, at most every 250 ms: slow, no more cover).
});
afterAll(async () => t?.dispose());

/** How many inputs each entry point got, for the report at the end. */
const tried: Record<string, number> = {};
/** Which outcomes the inputs reached (a property whose every input is refused early proves little). */
const reached: Record<string, number> = {};
const reach = (what: string) => void (reached[what] = (reached[what] ?? 0) + 1);
afterAll(() => {
  console.log(`hostile inputs per entry point: ${JSON.stringify(tried)}\noutcomes reached: ${JSON.stringify(reached)}`);
});

/** One hostile input: run it, wait for everything it set off, then the four safety checks. */
async function check(entry: string, input: unknown, run: () => Promise<{ statuses: number[]; extra?: { where: string; body: unknown }[] }>): Promise<void> {
  tried[entry] = (tried[entry] ?? 0) + 1;
  const m = mark(t);
  const { statuses, extra } = await run();
  await t.settle();
  expectClean(t, m, allowed, { status: statuses, extra, input });
}

/** The answer to a view submission, as Slack would take it: no refused response_action either. */
function submitted(r: ViewSubmissionResult, where: string) {
  expect(r.stackError, `${where}: Slack refused the response_action ${JSON.stringify(r.stackErrorMessages ?? [])}`).toBeUndefined();
  return { where, body: r.json };
}

const text = (value: string | null) => ({ type: 'plain_text_input', value });
const step = async (callbackId: string, inputs: Record<string, unknown>) => {
  const r = await t.slack.functionExecuted({ teamId: TEAM, callbackId, inputs });
  return r;
};
/** A step always ends (completed or failed, never left running by a crash). */
const expectFinished = (executionId: string) => expect(t.fake.execution(executionId)?.state).not.toBe('running');

function topView(userId: string): FakeView {
  const v = t.fake.topView(userId);
  if (!v) throw new Error(`${userId} has no modal open`);
  return v;
}

function initialValue(view: FakeView, blockId: string): string | null {
  const b = view.blocks.find((x) => (x as { block_id?: string }).block_id === blockId) as { element?: { initial_value?: string } } | undefined;
  return b?.element?.initial_value ?? null;
}

/** The task card a step or command just sent to BOB. */
function lastCard(userId: string) {
  const list = t.fake.messages(t.fake.dmChannel(userId)).filter((m) => findElement(m.blocks, ACTION.taskOpen));
  return list[list.length - 1];
}

describe('/task command text', () => {
  const templates = [
    (h: string) => h,
    (h: string) => `add ${h}`,
    (h: string) => `add "${h}" <@${BOB}|bob>`,
    (h: string) => `add ${h} <@${BOB}|bob> due tomorrow`,
    (h: string) => `add Pay the invoice due ${h}`,
    (h: string) => `assign #1 ${h}`,
    (h: string) => `assign ${h} <@${BOB}|bob>`,
    (h: string) => `done ${h}`,
    (h: string) => `reopen #${h}`,
    (h: string) => `list ${h}`,
    (h: string) => `${h} add ${h}`,
  ];

  it('any text, in any subcommand', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: templates.length - 1 }), hostileText, async (i, h) => {
        const commandText = (templates[i] as (h: string) => string)(h);
        await check('/task text', commandText, async () => {
          const r = await t.slack.command({ teamId: TEAM, userId: ANN, text: commandText, channelId: CHANNEL });
          return { statuses: [r.response.status], extra: [{ where: 'command ack', body: r.response.json }] };
        });
      }),
      fcParams(150),
    );
  });

  it('what the tasks made from hostile titles look like in /task list', async () => {
    await check('/task list', 'list all', async () => {
      const r = await t.slack.command({ teamId: TEAM, userId: ANN, text: 'list all', channelId: CHANNEL });
      return { statuses: [r.response.status] };
    });
  });
});

describe('workflow steps', () => {
  it('create_task: title and description', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, fc.boolean(), async (title, description, inChannel) => {
        let executionId = '';
        await check('create_task title/description', { title, description }, async () => {
          const r = await step(FUNCTION.createTask, { title, description, assignee: BOB, ...(inChannel ? { channel: CHANNEL } : {}) });
          executionId = r.executionId;
          return { statuses: [r.response.status] };
        });
        expectFinished(executionId);
        reach(`create_task ${t.fake.execution(executionId)?.state ?? '?'}`);
      }),
      fcParams(150),
    );
    expect(reached['create_task completed']).toBeGreaterThan(10);
    expect(reached['create_task failed']).toBeGreaterThan(10);
  });

  it('complete_task: the task reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileText, fc.constantFrom('#1', '1', 'task-1', '#0', '-1', '1e3', 'task-99999999999', '#999999999')), async (task) => {
        let executionId = '';
        await check('complete_task task', task, async () => {
          const r = await step(FUNCTION.completeTask, { task, completed_by_user: BOB });
          executionId = r.executionId;
          return { statuses: [r.response.status] };
        });
        expectFinished(executionId);
        reach(`complete_task ${t.fake.execution(executionId)?.state ?? '?'}`);
      }),
      fcParams(150),
    );
    expect(reached['complete_task completed']).toBeGreaterThan(0);
  });

  it('request_approval: title and details', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, async (title, details) => {
        let executionId = '';
        await check('request_approval title/details', { title, details }, async () => {
          const r = await step(FUNCTION.requestApproval, { approver: CAT, title, details, requester: ANN });
          executionId = r.executionId;
          return { statuses: [r.response.status] };
        });
        // A blank title fails the step; anything else waits for the approver.
        if (isBlank(title)) expectFinished(executionId);
        reach(`request_approval ${t.fake.execution(executionId)?.state ?? '?'}`);
      }),
      fcParams(150),
    );
    expect(reached['request_approval running']).toBeGreaterThan(50);
  });
});

describe('Request approval (shortcut form)', () => {
  it('title and details', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, async (title, details) => {
        await check('Request approval modal', { title, details }, async () => {
          const open = await t.slack.globalShortcut({ teamId: TEAM, userId: ANN, callbackId: SHORTCUT.requestApproval });
          await t.settle();
          const sub = await t.slack.viewSubmission({
            teamId: TEAM,
            userId: ANN,
            viewId: topView(ANN).id,
            values: {
              [REQUEST_INPUT.approvers.block]: { [REQUEST_INPUT.approvers.action]: { type: 'multi_users_select', selected_users: [CAT] } },
              [REQUEST_INPUT.title.block]: { [REQUEST_INPUT.title.action]: text(title) },
              [REQUEST_INPUT.details.block]: { [REQUEST_INPUT.details.action]: text(details) },
            },
          });
          const extra = [submitted(sub, 'Request approval submission')];
          t.fake.clearViews(ANN);
          reach(`Request approval ${sub.action}`);
          return { statuses: [open.response.status, sub.response.status], extra };
        });
      }),
      fcParams(100),
    );
    expect(reached['Request approval pop'], 'requests sent').toBeGreaterThan(20);
  });
});

describe('approval decisions', () => {
  /** A pending request (itself hostile) in CAT's DM; returns the card. */
  async function request(title: string, details: string) {
    await step(FUNCTION.requestApproval, { approver: CAT, title: isBlank(title) ? 'x' : title, details, requester: ANN });
    await t.settle();
    const list = t.fake.messages(t.fake.dmChannel(CAT));
    const card = list[list.length - 1];
    if (!card || !findElement(card.blocks, ACTION.reject)) throw new Error('no approval card in the approver’s DM');
    return card;
  }

  for (const [name, actionId, input] of [
    ['reject reason', ACTION.reject, INPUT.reason],
    ['approve comment', ACTION.approveWithComment, INPUT.comment],
  ] as const) {
    it(`${name} modal`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileShort, hostileShort, hostileText, async (title, details, comment) => {
          const card = await request(title, details);
          await check(`${name} modal`, { title, details, comment }, async () => {
            const click = await t.slack.blockAction({ teamId: TEAM, userId: CAT, actionId, container: 'message', channelId: card.channel, messageTs: card.ts });
            await t.settle();
            const sub = await t.slack.viewSubmission({ teamId: TEAM, userId: CAT, viewId: topView(CAT).id, values: { [input.block]: { [input.action]: text(comment) } } });
            const extra = [submitted(sub, `${name} submission`)];
            // Refused (blank reason, too long): the modal stays; close it for the next run.
            if (sub.action === 'errors') t.fake.clearViews(CAT);
            reach(`${name} ${sub.action}`);
            return { statuses: [click.response.status, sub.response.status], extra };
          });
        }),
        fcParams(120),
      );
      expect(reached[`${name} pop`], 'decisions recorded').toBeGreaterThan(20);
    });
  }
});

describe('modals', () => {
  it('New task: title and description', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, async (title, description) => {
        await check('New task modal', { title, description }, async () => {
          const open = await t.slack.command({ teamId: TEAM, userId: ANN, text: '', channelId: CHANNEL });
          await t.settle();
          const sub = await t.slack.viewSubmission({
            teamId: TEAM,
            userId: ANN,
            viewId: topView(ANN).id,
            values: {
              [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: text(title) },
              [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: BOB } },
              [NEW_TASK_FIELD.description]: { [NEW_TASK_FIELD.description]: text(description) },
            },
          });
          const extra = [submitted(sub, 'New task submission')];
          if (sub.action === 'errors') t.fake.clearViews(ANN);
          reach(`New task ${sub.action}`);
          return { statuses: [open.response.status, sub.response.status], extra };
        });
      }),
      fcParams(150),
    );
    expect(reached['New task pop'], 'tasks created').toBeGreaterThan(20);
    expect(reached['New task errors'], 'forms refused').toBeGreaterThan(5);
  });

  it('Make a task (message shortcut): the message text, then the prefilled form as submitted', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, fc.boolean(), async (messageText, inThread) => {
        // The message the shortcut is used on, posted before the measured part (it is ours, not the app's).
        const posted = await fetch(`${t.fake.apiUrl}chat.postMessage`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.fake.botToken}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ channel: CHANNEL, text: messageText || ' ' }).toString(),
        }).then((r) => r.json() as Promise<{ ts: string }>);
        await check('Make a task message', messageText, async () => {
          const sc = await t.slack.messageShortcut({
            teamId: TEAM,
            userId: ANN,
            callbackId: SHORTCUT.taskFromMessage,
            channelId: CHANNEL,
            message: { ts: posted.ts, text: messageText, user: BOB, ...(inThread ? { thread_ts: posted.ts } : {}) },
          });
          await t.settle();
          const statuses = [sc.response.status];
          const view = t.fake.topView(ANN);
          if (!view || initialValue(view, NEW_TASK_FIELD.title) === null) {
            t.fake.clearViews(ANN);
            return { statuses };
          }
          const sub = await t.slack.viewSubmission({
            teamId: TEAM,
            userId: ANN,
            viewId: view.id,
            values: {
              [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: text(initialValue(view, NEW_TASK_FIELD.title)) },
              [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: BOB } },
              [NEW_TASK_FIELD.description]: { [NEW_TASK_FIELD.description]: text(initialValue(view, NEW_TASK_FIELD.description)) },
            },
          });
          const extra = [submitted(sub, 'Make a task submission')];
          t.fake.clearViews(ANN);
          reach(`Make a task ${sub.action}`);
          return { statuses: [...statuses, sub.response.status], extra };
        });
      }),
      fcParams(120),
    );
    expect(reached['Make a task pop'], 'tasks made from messages').toBeGreaterThan(20);
  });

  /** Opens the details of BOB's latest task from its card, then clicks `actionId` in them. */
  async function detailsForm(actionId: string): Promise<FakeView | undefined> {
    const card = lastCard(BOB);
    if (!card) throw new Error('BOB has no task card');
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId: ACTION.taskOpen, container: 'message', channelId: card.channel, messageTs: card.ts });
    await t.settle();
    const details = t.fake.topView(BOB);
    if (!details || !findElement(details.blocks, actionId)) return undefined;
    await t.slack.blockAction({ teamId: TEAM, userId: BOB, actionId, container: 'view', viewId: details.id });
    await t.settle();
    return t.fake.topView(BOB);
  }

  it('Comment (task details): the comment', async () => {
    await t.slack.command({ teamId: TEAM, userId: ANN, text: `add "Commented on" <@${BOB}|bob>` });
    await t.settle();
    await fc.assert(
      fc.asyncProperty(hostileText, async (comment) => {
        await check('Comment modal', comment, async () => {
          const form = await detailsForm(ACTION.detailsComment);
          if (!form) return { statuses: [] };
          const sub = await t.slack.viewSubmission({ teamId: TEAM, userId: BOB, viewId: form.id, values: { [COMMENT_FIELD]: { [COMMENT_FIELD]: text(comment) } } });
          const extra = [submitted(sub, 'Comment submission')];
          t.fake.clearViews(BOB);
          reach(`Comment ${sub.action}`);
          return { statuses: [sub.response.status], extra };
        });
      }),
      fcParams(100),
    );
    expect(reached['Comment pop'], 'comments made').toBeGreaterThan(20);
  });

  it('Edit (task details): title and description', async () => {
    await t.slack.command({ teamId: TEAM, userId: ANN, text: `add "Edited" <@${BOB}|bob>` });
    await t.settle();
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, async (title, description) => {
        await check('Edit modal', { title, description }, async () => {
          const form = await detailsForm(ACTION.detailsEdit);
          if (!form) return { statuses: [] };
          const sub = await t.slack.viewSubmission({
            teamId: TEAM,
            userId: BOB,
            viewId: form.id,
            values: {
              [NEW_TASK_FIELD.title]: { [NEW_TASK_FIELD.title]: text(title) },
              [NEW_TASK_FIELD.assignee]: { [NEW_TASK_FIELD.assignee]: { type: 'users_select', selected_user: BOB } },
              [NEW_TASK_FIELD.description]: { [NEW_TASK_FIELD.description]: text(description) },
            },
          });
          const extra = [submitted(sub, 'Edit submission')];
          t.fake.clearViews(BOB);
          reach(`Edit ${sub.action}`);
          return { statuses: [sub.response.status], extra };
        });
      }),
      fcParams(100),
    );
    expect(reached['Edit pop'], 'edits saved').toBeGreaterThan(10);
  });
});

describe('App Home', () => {
  it('search query (options endpoint)', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, async (query) => {
        await check('Home search', query, async () => {
          const r = await t.slack.blockSuggestion({ teamId: TEAM, userId: ANN, actionId: ACTION.homeSearch, value: query });
          // Options are plain_text: what matters is that Slack would take them.
          const options = (r.json as { options?: { text: { text: string; type: string }; value: string }[] } | undefined)?.options ?? [];
          for (const o of options) {
            expect(o.text.type).toBe('plain_text');
            expect(o.text.text.length).toBeGreaterThan(0);
            expect(o.text.text.length).toBeLessThanOrEqual(75);
            expect(o.value.length).toBeLessThanOrEqual(150);
          }
          expect(options.length).toBeLessThanOrEqual(100);
          return { statuses: [r.response.status] };
        });
      }),
      fcParams(100),
    );
  });

  it('the Homes drawn from everything above (tasks and approvals with hostile text), on every filter', async () => {
    for (const userId of [ANN, BOB, CAT]) {
      await check('Home opened', userId, async () => {
        const r = await t.slack.appHomeOpened({ teamId: TEAM, userId });
        return { statuses: [r.status] };
      });
      for (const filter of ['assigned', 'created', 'all_open', 'recently_done']) {
        await check('Home filter', { userId, filter }, async () => {
          const home = t.fake.homeView(userId);
          if (!home) throw new Error(`${userId} has no Home`);
          const r = await t.slack.blockAction({ teamId: TEAM, userId, actionId: ACTION.homeFilter, container: 'view', viewId: home.id, selectedOption: { value: filter } });
          return { statuses: [r.response.status] };
        });
      }
    }
    expect(t.fake.callsTo('views.publish').filter((c) => c.response['ok'] !== true)).toEqual([]);
  });
});
