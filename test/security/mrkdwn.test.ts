// Escaping and Block Kit limits as properties of the pure code every surface relies on: the one
// escape helper, the truncation, and the view builders fed hostile data. No Slack, no store:
// thousands of cases a second.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approveCommentModal,
  decidedCardBlocks,
  decidedCardText,
  failedCardBlocks,
  rejectReasonModal,
  requestCardBlocks,
  requestCardText,
  requesterNoticeBlocks,
  requesterNoticeText,
} from '../../src/features/approvals/views.js';
import { homeView, searchOptions } from '../../src/features/home/views.js';
import { decodeSlackText, parseTaskCommand } from '../../src/features/tasks/commandParser.js';
import { assignedText, completedNoticeText, deletedCardBlocks, taskCardBlocks, taskCardText, taskListBlocks } from '../../src/features/tasks/views.js';
import { escapeMrkdwn, plain, truncate, userText } from '../../src/slack/mrkdwn.js';
import type { Approval } from '../../src/store/approvals.js';
import type { TaskRow } from '../../src/store/schema.js';
import { validateMessage, validateView } from '../../src/sandbox/blockKit.js';
import { fcParams, forgedSequences, hostileHuge, hostileShort, hostileText, mrkdwnIn, type Allowed } from './support.js';

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const ELLIPSIS = '…';
/** No lone surrogate (String.prototype.isWellFormed is ES2024). */
const isWellFormed = (s: string): boolean => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
/** Every `&` starts one of the three entities escapeMrkdwn makes. */
const onlyWholeEntities = (s: string): boolean => !/&(?!(?:amp|lt|gt);)/.test(s);

/** Strings with and without lone surrogates, control characters and the hostile pieces. */
const anyString = fc.oneof(hostileText, fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 400 }));
const wellFormed = fc.oneof(hostileText, fc.string({ unit: 'grapheme', maxLength: 400 }));
const limit = fc.integer({ min: 1, max: 400 });

describe('escapeMrkdwn', () => {
  it('leaves no raw < or > and only whole entities, whatever the input', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const out = escapeMrkdwn(s);
        expect(out).not.toMatch(/[<>]/);
        expect(onlyWholeEntities(out)).toBe(true);
      }),
      fcParams(3000),
    );
  });

  it('is lossless (unescaping gives the input back) and works piecewise', () => {
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        expect(unescape(escapeMrkdwn(a))).toBe(a);
        expect(escapeMrkdwn(a + b)).toBe(escapeMrkdwn(a) + escapeMrkdwn(b));
      }),
      fcParams(2000),
    );
  });

  it('turns every hostile text into mrkdwn without a single control sequence', () => {
    const nobody: Allowed = { users: new Set() };
    fc.assert(
      fc.property(hostileText, (s) => {
        expect(forgedSequences([{ where: 'x', text: escapeMrkdwn(s) }], nobody)).toEqual([]);
      }),
      fcParams(2000),
    );
  });

  it('the checker itself sees the control sequences in unescaped hostile text', () => {
    const nobody: Allowed = { users: new Set() };
    for (const raw of ['<!channel>', '<@UHOSTILE1>', '<#CHOSTILE1|x>', '<https://evil.example|x>', 'a < b', '<!date^1^{date}|x>']) {
      expect(forgedSequences([{ where: 'x', text: raw }], nobody), raw).not.toEqual([]);
    }
  });
});

describe('truncate', () => {
  it('never exceeds the limit; returns short text unchanged; marks a cut with an ellipsis', () => {
    fc.assert(
      fc.property(anyString, limit, (s, max) => {
        const out = truncate(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        if (s.length <= max) expect(out).toBe(s);
        else {
          expect(out.endsWith(ELLIPSIS)).toBe(true);
          expect(s.startsWith(out.slice(0, -1))).toBe(true);
        }
      }),
      fcParams(3000),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(anyString, limit, (s, max) => {
        expect(truncate(truncate(s, max), max)).toBe(truncate(s, max));
      }),
      fcParams(2000),
    );
  });

  it('never splits a surrogate pair (well-formed text stays well-formed)', () => {
    fc.assert(
      fc.property(wellFormed, limit, (s, max) => {
        expect(isWellFormed(truncate(s, max))).toBe(true);
        expect(isWellFormed(userText(s, max))).toBe(true);
      }),
      fcParams(3000),
    );
  });

  it('huge text is cut to the limit in one go', () => {
    fc.assert(
      fc.property(hostileHuge, fc.constantFrom(75, 150, 2000, 3000), (s, max) => {
        expect(userText(s, max).length).toBeLessThanOrEqual(max);
        expect(plain(s, max).length).toBeLessThanOrEqual(max);
      }),
      fcParams(100),
    );
  });
});

describe('userText (escape, then cut)', () => {
  it('never splits an entity: what is left is an escaped prefix of the input', () => {
    fc.assert(
      fc.property(anyString, limit, (s, max) => {
        const out = userText(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out).not.toMatch(/[<>]/);
        const body = out.endsWith(ELLIPSIS) && escapeMrkdwn(s).length > max ? out.slice(0, -1) : out;
        expect(body).not.toMatch(/&(?!(?:amp|lt|gt);)/);
        expect(s.startsWith(unescape(body))).toBe(true);
      }),
      fcParams(3000),
    );
  });

  it('cuts entity-heavy text exactly at entity boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('&', '<', '>', 'a', '😀'), { maxLength: 200 }), limit, (parts, max) => {
        const out = userText(parts.join(''), max);
        expect(out.replace(/…$/, '')).toMatch(/^(?:&amp;|&lt;|&gt;|a|😀)*$/u);
      }),
      fcParams(3000),
    );
  });
});

describe('/task text decoding', () => {
  it('decodeSlackText never throws, and whatever /task answers with is escaped', () => {
    const nobody: Allowed = { users: new Set() };
    fc.assert(
      fc.property(hostileText, fc.constantFrom('', 'add ', 'add "', 'list ', 'done ', 'reopen ', 'assign #1 ', 'assign ', 'add x due '), (s, prefix) => {
        decodeSlackText(s);
        const parsed = parseTaskCommand(prefix + s, { now: Date.UTC(2025, 2, 10, 12), timeZone: 'Europe/Paris' });
        if (parsed.kind === 'invalid') expect(forgedSequences([{ where: 'reply', text: `${parsed.message}\n${parsed.usage}` }], nobody)).toEqual([]);
        if (parsed.kind === 'add') {
          expect(parsed.title.trim()).not.toBe('');
          expect(parsed.assigneeId === undefined || /^[UW][A-Z0-9]+$/.test(parsed.assigneeId)).toBe(true);
        }
      }),
      fcParams(1500),
    );
  });
});

// ------------------------------------------------------------------ view builders fed hostile data

const PEOPLE = ['UANN00001', 'UBOB00002', 'UCAT00003'] as const;
const allowed: Allowed = { users: new Set(PEOPLE), channels: new Set(['CGENERAL1']) };
const person = fc.constantFrom(...PEOPLE);
const NOW = Date.UTC(2025, 2, 10, 12);

const taskRow = fc.record({
  id: fc.integer({ min: 1, max: 2 ** 31 }),
  number: fc.integer({ min: 1, max: 999_999_999 }),
  title: hostileText,
  description: hostileText,
  status: fc.constantFrom('open', 'done', 'cancelled'),
  priority: fc.constantFrom('low', 'normal', 'high', 'urgent'),
  assigneeId: person,
  creatorId: person,
  dueDate: fc.option(fc.constantFrom('2025-03-01', '2025-03-10', '2026-12-31'), { nil: null }),
  completedBy: fc.option(person, { nil: null }),
  completedAt: fc.option(fc.constant(NOW), { nil: null }),
  sourcePermalink: fc.option(fc.constant('https://fake.slack.com/archives/CGENERAL1/p1700000000000100'), { nil: null }),
}).map(
  (r): TaskRow => ({
    ...r,
    teamId: 'T0AAAAAAA',
    origin: 'command',
    channelId: null,
    createdAt: NOW,
    updatedAt: NOW,
    functionExecutionId: null,
    stepState: 'none',
  }) as TaskRow,
);

const approval = fc.record({
  id: fc.integer({ min: 1, max: 2 ** 31 }),
  title: hostileText.filter((s) => s.trim() !== ''),
  details: hostileText,
  requesterId: fc.option(person, { nil: null }),
  status: fc.constantFrom('pending', 'approved', 'rejected', 'failed'),
  decidedBy: fc.option(person, { nil: null }),
  // A decision's comment is at most 2000 characters once trimmed; hostile all the same.
  comment: fc.option(hostileText.map((s) => s.trim().slice(0, 2000)), { nil: null }),
  failureReason: fc.option(hostileShort, { nil: null }),
  approvers: fc.uniqueArray(person, { minLength: 1, maxLength: 3 }),
}).map(
  (r): Approval => ({
    ...r,
    teamId: 'T0AAAAAAA',
    decidedAt: r.decidedBy ? NOW : null,
    origin: 'workflow',
    functionExecutionId: null,
    workflowExecutionId: null,
    stepState: 'none',
    createdAt: NOW,
    updatedAt: NOW,
    approvers: r.approvers.map((userId) => ({ approvalId: r.id, teamId: 'T0AAAAAAA', userId, channelId: null, messageTs: null })),
  }) as Approval,
);

/** A message Slack accepts, with nothing in it that pings or links on its own. */
function expectGoodMessage(text: string, blocks: unknown[] | undefined, what: string): void {
  expect(text.length, `${what}: text length`).toBeLessThanOrEqual(40_000);
  if (blocks) expect(validateMessage({ blocks }), `${what}: blocks`).toEqual([]);
  expect(forgedSequences([...mrkdwnIn({ text, blocks }, what, true)], allowed), what).toEqual([]);
}

function expectGoodView(view: unknown, type: 'modal' | 'home', what: string): void {
  const r = validateView(view, type);
  expect(r.ok ? [] : r.tooLarge ? ['view_too_large'] : r.issues, `${what}: view`).toEqual([]);
  expect(forgedSequences(mrkdwnIn(view, what), allowed), what).toEqual([]);
}

describe('view builders with hostile data stay within Block Kit limits and escape everything', () => {
  it('task cards, notices and lists', () => {
    fc.assert(
      fc.property(taskRow, person, (task, by) => {
        expectGoodMessage(taskCardText(task), taskCardBlocks(task, { today: '2025-03-10' }), 'task card');
        expectGoodMessage(`Deleted: ${taskCardText(task)}`, deletedCardBlocks(task, by), 'deleted card');
        expectGoodMessage(assignedText(task, by), undefined, 'assigned DM');
        expectGoodMessage(completedNoticeText(task), undefined, 'completed notice');
      }),
      fcParams(400),
    );
  });

  it('/task list with 20 hostile titles', () => {
    fc.assert(
      fc.property(fc.array(taskRow, { maxLength: 20 }), fc.constantFrom('mine', 'created', 'all'), fc.constantFrom('open', 'done'), (rows, scope, status) => {
        expectGoodMessage('list', taskListBlocks(rows, rows.length + 5, scope, status, '2025-03-10'), 'task list');
      }),
      fcParams(150),
    );
  });

  it('approval cards, decided cards, requester notices and the decision modals', () => {
    fc.assert(
      fc.property(approval, (a) => {
        expectGoodMessage(requestCardText(a), requestCardBlocks(a), 'request card');
        if (a.status === 'approved' || a.status === 'rejected') {
          expectGoodMessage(decidedCardText(a), decidedCardBlocks(a), 'decided card');
          expectGoodMessage(requesterNoticeText(a), requesterNoticeBlocks(a), 'requester notice');
        }
        expectGoodMessage('cancelled', failedCardBlocks(a), 'failed card');
        expectGoodView(rejectReasonModal(a), 'modal', 'reject modal');
        expectGoodView(approveCommentModal(a), 'modal', 'approve modal');
      }),
      fcParams(500),
    );
  });

  it('a decision comment of up to 2000 characters with many lines fits the outcome section', () => {
    fc.assert(
      fc.property(approval, fc.constantFrom('a\n', '&\n', '\n&', 'x\n\n', '<!channel>\n'), fc.integer({ min: 1, max: 2000 }), (a, unit, n) => {
        const comment = unit.repeat(n).slice(0, 2000).trim() || 'x';
        const decided: Approval = { ...a, status: 'rejected', decidedBy: PEOPLE[0], decidedAt: NOW, comment };
        expectGoodMessage(decidedCardText(decided), decidedCardBlocks(decided), 'decided card');
        expectGoodMessage(requesterNoticeText(decided), requesterNoticeBlocks(decided), 'requester notice');
      }),
      fcParams(300),
    );
  });

  it('the App Home with a page of hostile tasks and approvals', () => {
    fc.assert(
      fc.property(fc.uniqueArray(taskRow, { maxLength: 20, selector: (r) => r.id }), fc.uniqueArray(approval, { maxLength: 10, selector: (a) => a.id }), person, (rows, approvals, userId) => {
        const view = homeView({
          userId,
          today: '2025-03-10',
          dashboard: {
            approvals: { total: approvals.length + 3, items: approvals.map((a) => ({ id: a.id, title: a.title, details: a.details, requesterId: a.requesterId, createdAt: NOW })) },
            tasks: { filter: 'all_open', page: 0, pageSize: 20, total: rows.length + 40, items: rows.map((r) => ({ ...r, status: r.status === 'cancelled' ? 'open' : r.status })) },
            overdue: 2,
          } as Parameters<typeof homeView>[0]['dashboard'],
        });
        expectGoodView(view, 'home', 'home');
      }),
      fcParams(150),
    );
  });

  it('search options (plain text, cut to 75)', () => {
    fc.assert(
      fc.property(fc.array(taskRow, { maxLength: 100 }), (rows) => {
        const options = searchOptions(rows.map((r) => ({ id: r.id, number: r.number, title: r.title, status: r.status === 'done' ? 'done' : 'open' })));
        const issues = validateMessage({
          blocks: [{ type: 'actions', elements: [{ type: 'static_select', action_id: 'x', placeholder: { type: 'plain_text', text: 'x' }, options: options.length > 0 ? options : [{ text: { type: 'plain_text', text: 'x' }, value: 'x' }] }] }],
        });
        expect(issues).toEqual([]);
      }),
      fcParams(150),
    );
  });
});
