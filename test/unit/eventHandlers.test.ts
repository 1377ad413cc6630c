// The Events API listeners with fake dependencies: a ✅ reaction on a task card, and @Tasklane
// mentions. An event envelope in (team_id and authorizations[0].team_id name the same workspace),
// then which service method got which actor, who was told what, and what was logged or queued.
import { describe, expect, it, vi } from 'vitest';
import { AlreadyDoneError, NotAllowedError, NotFoundError } from '../../src/errors.js';
import { TASK_KIND } from '../../src/features/tasks/effects.js';
import { COMPLETE_REACTION, handleAppMention, handleReactionAdded } from '../../src/features/tasks/events.js';
import type { TaskService } from '../../src/features/tasks/service.js';
import { mentionReplyText } from '../../src/features/tasks/views.js';
import { messageEffect } from '../../src/outbox/kinds.js';
import { EFFECT_EVENT_TYPE } from '../../src/outbox/sender.js';
import { ANN, BOB } from './blocks.js';

const TEAM = 'T1';
const BOT = 'UTASKLANE';
const CARD = { channel: 'C1', ts: '1741608000.000100' };
const task = { id: 7, teamId: TEAM, number: 12, title: 'Send the contract', assigneeId: BOB, creatorId: ANN, status: 'open' };

/** An Events API envelope as Slack posts it (the workspace both in team_id and in the authorization). */
function envelope(event: Record<string, unknown>, eventId = 'Ev0001') {
  return {
    token: 'verification-token',
    team_id: TEAM,
    context_team_id: TEAM,
    context_enterprise_id: null,
    api_app_id: 'A1',
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: 1741608001,
    authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: '4-abc',
  };
}

const logger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

describe('handleReactionAdded', () => {
  function react(
    opts: {
      reaction?: string;
      item?: Record<string, unknown>;
      itemUser?: string | null;
      tasks?: Partial<Record<keyof TaskService, unknown>>;
      pending?: boolean;
      metadataKey?: string;
      postEphemeral?: () => Promise<unknown>;
    } = {},
  ) {
    const recordMessage = vi.fn(async () => {});
    const tasks = {
      findByMessage: vi.fn(async () => task),
      find: vi.fn(async () => task),
      complete: vi.fn(async () => ({ ...task, status: 'done' })),
      repo: { recordMessage },
      ...opts.tasks,
    };
    const hasPending = vi.fn(async () => opts.pending ?? false);
    const message = { type: 'message', ts: CARD.ts, text: 'Send the contract', ...(opts.metadataKey ? { metadata: { event_type: EFFECT_EVENT_TYPE, event_payload: { key: opts.metadataKey } } } : {}) };
    const client = {
      chat: { postEphemeral: vi.fn(opts.postEphemeral ?? (async () => ({ ok: true }))) },
      conversations: { replies: vi.fn(async () => ({ ok: true, messages: [message] })) },
    };
    const log = logger();
    const outbox = { repo: { hasPending }, add: vi.fn(async () => {}) };
    const deps = { tasks: tasks as unknown as TaskService, client, logger: log, outbox } as never;
    const event = {
      type: 'reaction_added',
      user: ANN,
      reaction: opts.reaction ?? COMPLETE_REACTION,
      ...(opts.itemUser === null ? {} : { item_user: opts.itemUser ?? BOT }),
      item: opts.item ?? { type: 'message', channel: CARD.channel, ts: CARD.ts },
      event_ts: '1741608001.000200',
    };
    const done = handleReactionAdded(deps)({ event, body: envelope(event), context: { botUserId: BOT }, client } as never);
    return { done, tasks, recordMessage, hasPending, client, log, outbox };
  }

  it('ignores other reactions and reactions on files, reading nothing', async () => {
    for (const r of [react({ reaction: 'thumbsup' }), react({ item: { type: 'file', file: 'F1' } })]) {
      await r.done;
      expect(r.tasks.findByMessage).not.toHaveBeenCalled();
      expect(r.tasks.complete).not.toHaveBeenCalled();
      expect(r.client.chat.postEphemeral).not.toHaveBeenCalled();
    }
  });

  it('completes the task of a recorded card, for the reactor', async () => {
    const r = react();
    await r.done;
    expect(r.tasks.findByMessage).toHaveBeenCalledWith({ teamId: TEAM, userId: ANN }, CARD.channel, CARD.ts);
    expect(r.tasks.complete).toHaveBeenCalledTimes(1);
    expect(r.tasks.complete).toHaveBeenCalledWith({ teamId: TEAM, userId: ANN }, { id: 7 });
    expect(r.client.chat.postEphemeral).not.toHaveBeenCalled();
    expect(r.hasPending).not.toHaveBeenCalled();
    expect(r.log.error).not.toHaveBeenCalled();
  });

  it('tells a reactor who may not complete it why, in an ephemeral note under the card', async () => {
    const refusal = new NotAllowedError('not the assignee', 'Only the assignee or the creator can complete this task.');
    const r = react({ tasks: { complete: vi.fn(async () => Promise.reject(refusal)) } });
    await r.done;
    expect(r.client.chat.postEphemeral).toHaveBeenCalledTimes(1);
    expect(r.client.chat.postEphemeral).toHaveBeenCalledWith({ channel: CARD.channel, user: ANN, text: 'Only the assignee or the creator can complete this task.' });
    expect(r.log.error).not.toHaveBeenCalled();
  });

  it('does not throw when the note cannot be posted (logged quietly)', async () => {
    const r = react({
      tasks: { complete: vi.fn(async () => Promise.reject(new NotAllowedError('no', 'Only the assignee may.'))) },
      postEphemeral: async () => Promise.reject(Object.assign(new Error('An API error occurred: channel_not_found'), { data: { ok: false, error: 'channel_not_found' } })),
    });
    await expect(r.done).resolves.toBeUndefined();
    expect(r.log.debug).toHaveBeenCalledWith(expect.stringContaining(ANN));
    expect(r.log.error).not.toHaveBeenCalled();
  });

  it('is silent when the task is already done, gone or hidden', async () => {
    const doneTask = react({ tasks: { findByMessage: vi.fn(async () => ({ ...task, status: 'done' })) } });
    const missing = react({ itemUser: ANN, tasks: { findByMessage: vi.fn(async () => undefined) } });
    const raceDone = react({ tasks: { complete: vi.fn(async () => Promise.reject(new AlreadyDoneError('done'))) } });
    const raceGone = react({ tasks: { complete: vi.fn(async () => Promise.reject(new NotFoundError('gone'))) } });
    for (const r of [doneTask, missing]) {
      await r.done;
      expect(r.tasks.complete).not.toHaveBeenCalled();
    }
    for (const r of [doneTask, missing, raceDone, raceGone]) {
      await r.done;
      expect(r.client.chat.postEphemeral).not.toHaveBeenCalled();
      expect(r.log.error).not.toHaveBeenCalled();
      expect(r.log.warn).not.toHaveBeenCalled();
    }
    // Someone else's message is never looked up in Slack.
    expect(missing.hasPending).not.toHaveBeenCalled();
    expect(missing.client.conversations.replies).not.toHaveBeenCalled();
  });

  it('finds an unrecorded card of ours through its metadata while a card row is pending, records it, and completes', async () => {
    const r = react({ pending: true, metadataKey: 'task:7:card:channel', tasks: { findByMessage: vi.fn(async () => undefined) } });
    await r.done;
    expect(r.hasPending).toHaveBeenCalledWith(TEAM, TASK_KIND.card);
    expect(r.client.conversations.replies).toHaveBeenCalledWith(expect.objectContaining({ channel: CARD.channel, ts: CARD.ts, include_all_metadata: true }));
    expect(r.tasks.find).toHaveBeenCalledWith({ teamId: TEAM, userId: ANN }, { id: 7 });
    expect(r.recordMessage).toHaveBeenCalledWith(TEAM, 7, { channelId: CARD.channel, ts: CARD.ts, kind: 'channel' });
    expect(r.tasks.complete).toHaveBeenCalledWith({ teamId: TEAM, userId: ANN }, { id: 7 });
  });

  it('reads the metadata of an assignee DM card too, and of a message whose author Slack left out', async () => {
    const r = react({ itemUser: null, pending: true, metadataKey: 'task:7:card:assignee:UBOB00002:1741600000000', tasks: { findByMessage: vi.fn(async () => undefined) } });
    await r.done;
    expect(r.recordMessage).toHaveBeenCalledWith(TEAM, 7, { channelId: CARD.channel, ts: CARD.ts, kind: 'assignee_dm' });
    expect(r.tasks.complete).toHaveBeenCalledTimes(1);
  });

  it('does not ask Slack about an unrecorded message when no card row is pending, nor act on a key that is not a card', async () => {
    const idle = react({ pending: false, metadataKey: 'task:7:card:channel', tasks: { findByMessage: vi.fn(async () => undefined) } });
    await idle.done;
    expect(idle.hasPending).toHaveBeenCalledTimes(1);
    expect(idle.client.conversations.replies).not.toHaveBeenCalled();
    expect(idle.tasks.complete).not.toHaveBeenCalled();
    const other = react({ pending: true, metadataKey: 'mention-reply:Ev0001', tasks: { findByMessage: vi.fn(async () => undefined) } });
    await other.done;
    expect(other.client.conversations.replies).toHaveBeenCalledTimes(1);
    expect(other.tasks.find).not.toHaveBeenCalled();
    expect(other.recordMessage).not.toHaveBeenCalled();
    expect(other.tasks.complete).not.toHaveBeenCalled();
  });

  it('logs an unexpected failure with the team and the user, and does not throw', async () => {
    const r = react({ tasks: { complete: vi.fn(async () => Promise.reject(new Error('disk full'))) } });
    await expect(r.done).resolves.toBeUndefined();
    expect(r.log.error).toHaveBeenCalledTimes(1);
    expect(r.log.error).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`task 7 .*team ${TEAM}.*user ${ANN}.*disk full`)));
    expect(r.client.chat.postEphemeral).not.toHaveBeenCalled();
  });
});

describe('handleAppMention', () => {
  function mention(event: Record<string, unknown>, eventId = 'Ev0042') {
    const openCount = vi.fn(async () => 3);
    const outbox = { add: vi.fn(async () => {}) };
    const deps = { tasks: { openCount } as unknown as TaskService, outbox } as never;
    const full = { type: 'app_mention', text: `<@${BOT}> help`, channel: 'C1', ts: '1741608000.000300', event_ts: '1741608000.000300', ...event };
    const done = handleAppMention(deps)({ event: full, body: envelope(full, eventId) } as never);
    return { done, openCount, outbox };
  }

  it('ignores a bot, and a mention without a user', async () => {
    for (const r of [mention({ user: 'UOTHERBOT', bot_id: 'B1' }), mention({})]) {
      await r.done;
      expect(r.openCount).not.toHaveBeenCalled();
      expect(r.outbox.add).not.toHaveBeenCalled();
    }
  });

  it('queues one reply keyed by the event id, threaded under the mention, with the open count', async () => {
    const r = mention({ user: ANN, client_msg_id: 'm-1' });
    await r.done;
    expect(r.openCount).toHaveBeenCalledWith(TEAM, ANN);
    expect(r.outbox.add).toHaveBeenCalledTimes(1);
    expect(r.outbox.add).toHaveBeenCalledWith([
      messageEffect({ key: 'mention-reply:Ev0042', teamId: TEAM, channel: 'C1', threadTs: '1741608000.000300', text: mentionReplyText(ANN, 3) }),
    ]);
  });

  it('replies in the thread a mention was made in', async () => {
    const r = mention({ user: ANN, ts: '1741608000.000500', thread_ts: '1741607000.000100' }, 'Ev0043');
    await r.done;
    expect(r.outbox.add).toHaveBeenCalledWith([expect.objectContaining({ key: 'mention-reply:Ev0043', target: 'C1', payload: expect.objectContaining({ threadTs: '1741607000.000100' }) })]);
  });
});
