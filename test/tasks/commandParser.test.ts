import { describe, expect, it } from 'vitest';
import { closest, decodeSlackText, levenshtein, parseTaskCommand, type TaskCommand } from '../../src/features/tasks/commandParser.js';
import { formatDueDate, isIsoDate, parseDueDate, todayIn } from '../../src/features/tasks/dates.js';

// Friday 14 March 2025, 23:30 UTC: already Saturday 15 March in Tokyo, still Friday in New York.
const NOW = Date.UTC(2025, 2, 14, 23, 30);
const UTC = { now: NOW, timeZone: 'UTC' };
const TOKYO = { now: NOW, timeZone: 'Asia/Tokyo' };

const parse = (text: string, ctx = UTC) => parseTaskCommand(text, ctx);

function invalid(cmd: TaskCommand): { message: string; usage: string } {
  if (cmd.kind !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(cmd)}`);
  return cmd;
}

describe('dates', () => {
  it('knows today in the user’s time zone', () => {
    expect(todayIn('UTC', NOW)).toBe('2025-03-14');
    expect(todayIn('Asia/Tokyo', NOW)).toBe('2025-03-15');
    expect(todayIn('America/New_York', NOW)).toBe('2025-03-14');
    expect(todayIn('Not/AZone', NOW)).toBe('2025-03-14');
  });

  it.each([
    ['2025-03-20', '2025-03-20'],
    ['today', '2025-03-14'],
    ['tomorrow', '2025-03-15'],
    ['Tomorrow', '2025-03-15'],
    ['monday', '2025-03-17'],
    ['friday', '2025-03-14'],
    ['next friday', '2025-03-21'],
    ['in 3 days', '2025-03-17'],
    ['march 20', '2025-03-20'],
  ])('reads %s (UTC)', (text, date) => {
    expect(parseDueDate(text, UTC)).toEqual({ ok: true, date });
  });

  it('reads relative dates from the user’s own calendar', () => {
    expect(parseDueDate('today', TOKYO)).toEqual({ ok: true, date: '2025-03-15' });
    expect(parseDueDate('tomorrow', TOKYO)).toEqual({ ok: true, date: '2025-03-16' });
    expect(parseDueDate('in 3 days', TOKYO)).toEqual({ ok: true, date: '2025-03-18' });
    expect(parseDueDate('tomorrow', { now: NOW, timeZone: 'America/New_York' })).toEqual({ ok: true, date: '2025-03-15' });
  });

  it('refuses what is not wholly a date', () => {
    expect(parseDueDate('to outage', UTC).ok).toBe(false);
    expect(parseDueDate('friday maybe', UTC).ok).toBe(false);
    expect(parseDueDate('2025-02-30', UTC)).toEqual({ ok: false, reason: '2025-02-30 is not a real calendar date' });
    expect(parseDueDate('', UTC).ok).toBe(false);
  });

  it('checks and formats ISO dates', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2025-02-29')).toBe(false);
    expect(isIsoDate('2025-3-1')).toBe(false);
    expect(formatDueDate('2025-03-14')).toBe('Fri, Mar 14, 2025');
  });
});

describe('parseTaskCommand', () => {
  it('opens the modal for no text and shows help', () => {
    expect(parse('')).toEqual({ kind: 'new' });
    expect(parse('   ')).toEqual({ kind: 'new' });
    expect(parse('\u200B \u2060\uFEFF')).toEqual({ kind: 'new' });
    expect(parse('help')).toEqual({ kind: 'help' });
    expect(parse('HELP')).toEqual({ kind: 'help' });
  });

  describe('add', () => {
    it('takes a plain title', () => {
      expect(parse('add Buy milk')).toEqual({ kind: 'add', title: 'Buy milk' });
    });

    it('takes an escaped mention and a due date, in either order', () => {
      const expected = { kind: 'add', title: 'Send the contract', assigneeId: 'U123', dueDate: '2025-03-21' };
      expect(parse('add Send the contract <@U123|maria> due next friday')).toEqual(expected);
      expect(parse('add Send the contract due next friday <@U123|maria>')).toEqual(expected);
      expect(parse('add Send the contract <@U123> due 2025-03-21')).toEqual(expected);
    });

    it('takes quoted titles, straight or curly, that may contain "due"', () => {
      expect(parse('add "Fix the due date bug" due tomorrow')).toEqual({ kind: 'add', title: 'Fix the due date bug', dueDate: '2025-03-15' });
      expect(parse('add “Fix the due date bug” <@UABC|bo>')).toEqual({ kind: 'add', title: 'Fix the due date bug', assigneeId: 'UABC' });
      expect(parse('add "Ask <@U9|joe> about it"')).toEqual({ kind: 'add', title: 'Ask @joe about it' });
    });

    it('resolves dates in the user’s time zone', () => {
      expect(parse('add Call back due today', TOKYO)).toEqual({ kind: 'add', title: 'Call back', dueDate: '2025-03-15' });
      expect(parse('add Call back due in 3 days', UTC)).toEqual({ kind: 'add', title: 'Call back', dueDate: '2025-03-17' });
    });

    it('keeps mentions inside the title as readable text and decodes Slack’s escaping', () => {
      expect(parse('add Review <@U1|ann>’s PR &amp; merge <@U2|bob>')).toEqual({ kind: 'add', title: 'Review @ann’s PR & merge', assigneeId: 'U2' });
      expect(parse('add Tell <!channel> about &lt;b&gt;')).toEqual({ kind: 'add', title: 'Tell @channel about <b>' });
      expect(parse('add Read <https://evil.example|click here> now')).toEqual({ kind: 'add', title: 'Read https://evil.example now' });
    });

    it('accepts aliases', () => {
      expect(parse('new Buy milk')).toEqual({ kind: 'add', title: 'Buy milk' });
    });

    it.each([
      ['add', 'Tell me what the task is.'],
      ['add <@U1|ann>', 'The task needs a title'],
      ['add due tomorrow', 'The task needs a title'],
      ['add "Unclosed title due friday', 'opening quote is never closed'],
      ['add "Title"due friday', 'Leave a space after the closing quote'],
      ['add "Title" whatever', 'I didn’t understand "whatever" after the title'],
      ['add Title <@U1|ann> <@U2|bob>', 'A task has one assignee, and you mentioned 2 people'],
      ['add Title @bob', 'I can’t tell who @bob is'],
      ['add Report due to outage', 'I couldn’t read "to outage" as a due date'],
      ['add Report due', 'Say when it is due'],
      ['add Title due 2025-02-30', 'I couldn’t read "2025-02-30" as a due date'],
    ])('explains %j', (text, fragment) => {
      const r = invalid(parse(text));
      expect(r.message).toContain(fragment);
      expect(r.usage).toContain('/task add &lt;title&gt; [@assignee] [due &lt;date&gt;]');
    });

    it('suggests quotes when "due" may belong to the title', () => {
      expect(invalid(parse('add Report due to outage')).message).toContain('put the title in quotes');
      expect(invalid(parse('add "Report" due to outage')).message).not.toContain('quotes');
    });
  });

  describe('list', () => {
    it('defaults to my open tasks and takes filters in any order', () => {
      expect(parse('list')).toEqual({ kind: 'list', scope: 'mine', status: 'open' });
      expect(parse('list all')).toEqual({ kind: 'list', scope: 'all', status: 'open' });
      expect(parse('list done created')).toEqual({ kind: 'list', scope: 'created', status: 'done' });
      expect(parse('ls mine done')).toEqual({ kind: 'list', scope: 'mine', status: 'done' });
    });

    it('explains bad filters, with a suggestion', () => {
      expect(invalid(parse('list mine all')).message).toContain('Choose one of `mine`, `created` or `all`');
      expect(invalid(parse('list open done')).message).toContain('Choose `open` or `done`');
      const r = invalid(parse('list crated'));
      expect(r.message).toContain('I don’t know the list filter "crated". Did you mean `created`?');
      expect(r.usage).toContain('/task list [mine|created|all] [open|done]');
    });
  });

  describe('add … every (repeating tasks)', () => {
    const weekly = (weekday?: number, every = 1) => ({ kind: 'weekly', every, ...(weekday ? { weekday } : {}) });
    it.each([
      ['add Weekly report <@U1|bob> every monday', { title: 'Weekly report', assigneeId: 'U1', repeat: weekly(1) }],
      ['add Weekly report every monday <@U1|bob>', { title: 'Weekly report', assigneeId: 'U1', repeat: weekly(1) }],
      ['add Weekly report every monday', { title: 'Weekly report', repeat: weekly(1) }],
      ['add Stand-up every day', { title: 'Stand-up', repeat: { kind: 'daily' } }],
      ['add Stand-up every weekday <@U1|bob>', { title: 'Stand-up', assigneeId: 'U1', repeat: { kind: 'weekdays' } }],
      ['add Sprint review every 2 weeks', { title: 'Sprint review', repeat: weekly(undefined, 2) }],
      ['add Sprint review every 2 weeks on thursday', { title: 'Sprint review', repeat: weekly(4, 2) }],
      ['add Retro every week', { title: 'Retro', repeat: weekly() }],
      ['add Pay rent every month on the 1st', { title: 'Pay rent', repeat: { kind: 'monthly', day: 1 } }],
      ['add Pay rent every month', { title: 'Pay rent', repeat: { kind: 'monthly' } }],
      ['add "Check every server" every friday', { title: 'Check every server', repeat: weekly(5) }],
      ['add "Report" <@U1|bob> every Monday due next friday', { title: 'Report', assigneeId: 'U1', dueDate: '2025-03-21', repeat: weekly(1) }],
    ])('%j', (text, expected) => {
      expect(parse(text)).toEqual({ kind: 'add', ...expected });
    });

    it('keeps "every" in an unquoted title when the words after it are no attempt at a rule', () => {
      expect(parse('add Check every server <@U1|bob> due 2025-03-17')).toEqual({ kind: 'add', title: 'Check every server', assigneeId: 'U1', dueDate: '2025-03-17' });
      expect(parse('add Thank every customer')).toEqual({ kind: 'add', title: 'Thank every customer' });
      expect(parse('add Check every server every monday')).toEqual({ kind: 'add', title: 'Check every server', repeat: weekly(1) });
    });

    it('takes a due date before or after the rule, and an assignee anywhere among the options', () => {
      const expected = { kind: 'add', title: 'Report', assigneeId: 'U1', dueDate: '2025-03-17', repeat: weekly(1) };
      expect(parse('add Report every monday due 2025-03-17 <@U1|bob>')).toEqual(expected);
      expect(parse('add Report due 2025-03-17 every monday <@U1|bob>')).toEqual(expected);
      expect(parse('add Report <@U1|bob> due 2025-03-17 every monday')).toEqual(expected);
      expect(parse('add Report due monday every week', UTC)).toEqual({ kind: 'add', title: 'Report', dueDate: '2025-03-17', repeat: weekly() });
    });

    it.each([
      ['add Weekly report every mondy', 'Did you mean `every monday`?'],
      ['add Weekly report <@U1|bob> every tusday', 'Did you mean `every tuesday`?'],
      ['add Sync every 2 wekes', 'Did you mean `every 2 weeks`?'],
      ['add Sync every weeks', 'Did you mean `every week`?'],
    ])('near miss %j', (text, fragment) => {
      const r = invalid(parse(text));
      expect(r.message).toContain(fragment);
      expect(r.usage).toContain('[every &lt;when&gt;]');
    });

    it('lists what is supported for a rule it does not know, and suggests quotes for an unquoted title', () => {
      const r = invalid(parse('add Sync every fortnight'));
      expect(r.message).toContain('I can’t repeat a task `every fortnight`');
      for (const phrase of ['every day', 'every weekday', 'every monday', 'every 2 weeks', 'every month on the 1st']) expect(r.message).toContain(`\`${phrase}\``);
      expect(r.message).toContain('put the title in quotes');
      expect(invalid(parse('add "Sync" every year')).message).not.toContain('quotes');
      expect(invalid(parse('add "Sync" every server')).message).toContain('I can’t repeat a task `every server`');
      for (const text of ['add Sync every year', 'add Sync every 3 days', 'add Sync every other day', 'add Sync every month on the 32nd']) expect(parse(text).kind).toBe('invalid');
      expect(invalid(parse('add Sync every <@U1|bob>')).message).toContain('Say how often after `every`');
      expect(invalid(parse('add Sync every month on the 32nd')).message).toContain('I can’t repeat a task `every month on the 32nd`');
    });
  });

  describe('stop', () => {
    it('takes #n or n', () => {
      expect(parse('stop #12')).toEqual({ kind: 'stop', number: 12 });
      expect(parse('stop 3')).toEqual({ kind: 'stop', number: 3 });
      expect(parse('STOP #3')).toEqual({ kind: 'stop', number: 3 });
    });
    it.each([
      ['stop', 'Which task? Give its number, e.g. `/task stop #12`.'],
      ['stop weekly', '"weekly" is not a task number'],
      ['stop #1 #2', 'takes one task number'],
    ])('explains %j', (text, fragment) => {
      const r = invalid(parse(text));
      expect(r.message).toContain(fragment);
      expect(r.usage).toContain('/task stop #n');
    });
    it('a typo is suggested', () => {
      expect(invalid(parse('stpo #3')).message).toContain('Did you mean `/task stop`?');
    });
  });

  describe('done / reopen / assign', () => {
    it('take #n or n', () => {
      expect(parse('done #12')).toEqual({ kind: 'done', number: 12 });
      expect(parse('done 12')).toEqual({ kind: 'done', number: 12 });
      expect(parse('reopen #3')).toEqual({ kind: 'reopen', number: 3 });
      expect(parse('assign #4 <@U77|zed>')).toEqual({ kind: 'assign', number: 4, assigneeId: 'U77' });
      expect(parse('assign <@U77|zed> 4')).toEqual({ kind: 'assign', number: 4, assigneeId: 'U77' });
    });

    it.each([
      ['done', 'Which task? Give its number, e.g. `/task done #12`.', '/task done #n'],
      ['done abc', '"abc" is not a task number', '/task done #n'],
      ['done #0', '"#0" is not a task number', '/task done #n'],
      ['done 1 2', 'takes one task number', '/task done #n'],
      ['reopen', 'Which task?', '/task reopen #n'],
      ['assign', 'Which task, and to whom?', '/task assign #n @person'],
      ['assign #4', 'Who should do task #4?', '/task assign #n @person'],
      ['assign <@U1>', 'Which task?', '/task assign #n @person'],
      ['assign #4 @zed', 'I can’t tell who @zed is', '/task assign #n @person'],
      ['assign #4 <@U1> <@U2>', 'one assignee', '/task assign #n @person'],
      ['assign #4 #5 <@U1>', 'one task number at a time', '/task assign #n @person'],
    ])('explains %j', (text, fragment, usage) => {
      const r = invalid(parse(text));
      expect(r.message).toContain(fragment);
      expect(r.usage).toContain(usage);
    });
  });

  describe('unknown subcommands', () => {
    it.each([
      ['lst', 'list'],
      ['dne #3', 'done'],
      ['reopn 3', 'reopen'],
      ['asign #1 <@U1>', 'assign'],
      ['hlep', 'help'],
      ['ad thing', 'add'],
    ])('%j → did you mean %s', (text, sub) => {
      const r = invalid(parse(text));
      expect(r.message).toContain(`Did you mean \`/task ${sub}\`?`);
      expect(r.usage).toContain('/task list');
      expect(r.usage).toContain('/task add');
    });

    it('suggests `add` for text that is not a subcommand at all, escaped', () => {
      const r = invalid(parse('<!channel> party'));
      expect(r.message).toContain('I don’t know `/task @channel`');
      expect(r.message).not.toContain('<!channel>');
      expect(invalid(parse('Buy milk')).message).toContain('start with `add`');
    });
  });

  it('Levenshtein and closest', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(closest('lis', ['list', 'done'])).toBe('list');
    expect(closest('zzzzzz', ['list', 'done'])).toBeUndefined();
  });

  it('decodes Slack’s escaped text', () => {
    expect(decodeSlackText('<@U1|ann> <#C1|general> <!here> <!subteam^S1|@devs> <https://x.y> &amp;')).toBe('@ann #general @here @devs https://x.y &');
  });
});
