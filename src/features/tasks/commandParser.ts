import { COMMAND } from '../../slack/ids.js';
import { trimInput } from '../../slack/inputText.js';
import { escapeMrkdwn, truncate } from '../../slack/mrkdwn.js';
import { parseDueDate } from './dates.js';
import { parseRepeatWords, SUPPORTED_PHRASES, type RepeatSpec } from './recurrence.js';

/**
 * `/task` text → what the user asked for. Pure: no Slack, no store; the clock and the
 * user's time zone are passed in, so tests pin dates. Every way the text can be wrong gets its own
 * explanation plus the usage of the subcommand, never a silent failure.
 *
 * The text arrives as Slack sends it with `should_escape: true`: mentions as `<@U123|name>`,
 * channels as `<#C123|name>`, `@here` as `<!here>`, links as `<https://…|label>`, and the
 * characters `&`, `<`, `>` typed by the user as `&amp;`, `&lt;`, `&gt;`.
 */

export type ListScope = 'mine' | 'created' | 'all';
export type ListStatus = 'open' | 'done';

export type TaskCommand =
  | { kind: 'new' }
  | { kind: 'help' }
  /** `repeat`: `every …` (the first due date, when not given, is the rule's first day from today). */
  | { kind: 'add'; title: string; assigneeId?: string; dueDate?: string; repeat?: RepeatSpec }
  | { kind: 'list'; scope: ListScope; status: ListStatus }
  | { kind: 'done'; number: number }
  | { kind: 'reopen'; number: number }
  | { kind: 'assign'; number: number; assigneeId: string }
  /** Ends the repeating series task #n belongs to. */
  | { kind: 'stop'; number: number }
  /** `message` and `usage` are mrkdwn, user text already escaped. */
  | { kind: 'invalid'; message: string; usage: string };

export interface ParseContext {
  /** ms since the epoch */
  now: number;
  /** IANA time zone of the user who typed the command */
  timeZone: string;
}

const C = COMMAND.task;
export const SUBCOMMANDS = ['add', 'list', 'done', 'reopen', 'assign', 'stop', 'help'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const ALIASES: Record<string, Subcommand> = {
  add: 'add',
  new: 'add',
  create: 'add',
  list: 'list',
  ls: 'list',
  done: 'done',
  complete: 'done',
  finish: 'done',
  close: 'done',
  reopen: 'reopen',
  assign: 'assign',
  stop: 'stop',
  help: 'help',
  '?': 'help',
};

/**
 * Usage lines are mrkdwn: the placeholders' angle brackets are written as entities, or Slack
 * would read `<title>` as a link (even inside backticks) and show "title" without them.
 */
export const USAGE: Record<Subcommand, string> = {
  add: `\`${C} add &lt;title&gt; [@assignee] [due &lt;date&gt;] [every &lt;when&gt;]\` — e.g. \`${C} add "Send the contract" @maria due friday\`, \`${C} add Weekly report @bob every monday\``,
  list: `\`${C} list [mine|created|all] [open|done]\` — e.g. \`${C} list created done\``,
  done: `\`${C} done #n\` — mark task #n as done`,
  reopen: `\`${C} reopen #n\` — open a done task again`,
  assign: `\`${C} assign #n @person\` — give task #n to someone`,
  stop: `\`${C} stop #n\` — task #n (a repeating task) will not repeat any more`,
  help: `\`${C} help\` — this help`,
};

/** The whole usage, for `/task help` and for text that is not a subcommand at all. */
const REPEAT_EXAMPLES = SUPPORTED_PHRASES.map((p) => `\`${p}\``).join(', ');

export const FULL_USAGE = [
  '*Tasklane — `' + C + '`*',
  `\`${C}\` — open the New task form`,
  ...SUBCOMMANDS.map((s) => USAGE[s]),
  'Dates: `2025-03-14`, `today`, `tomorrow`, `friday`, `next friday`, `in 3 days`.',
  `Repeats: ${REPEAT_EXAMPLES}; the next task is made when one is completed or its day has passed.`,
].join('\n');

export function parseTaskCommand(text: string, ctx: ParseContext): TaskCommand {
  const trimmed = trimInput(text);
  if (trimmed === '') return { kind: 'new' };
  const tokens = tokenize(trimmed);
  const first = tokens[0] as Token;
  const rest = trimInput(trimmed.slice(first.end));
  const sub = ALIASES[first.text.toLowerCase()];
  if (!sub) return unknownSubcommand(first.text);
  switch (sub) {
    case 'help':
      return { kind: 'help' };
    case 'add':
      return parseAdd(rest, ctx);
    case 'list':
      return parseList(rest);
    case 'done':
    case 'reopen':
    case 'stop':
      return parseNumberOnly(sub, rest);
    case 'assign':
      return parseAssign(rest);
  }
}

// ---------------------------------------------------------------- tokens

interface Token {
  text: string;
  start: number;
  end: number;
}

/** Splits on whitespace, keeping each Slack `<…>` entity (whose label may hold spaces) whole. */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /<[^<>]*>|[^\s<]+|</g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

const MENTION = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;
/** A bare `@name` Slack did not turn into a mention (typed without picking from the list). */
const BARE_AT = /^@[^\s]+$/;

function mentionOf(token: Token | undefined): string | undefined {
  return token ? MENTION.exec(token.text)?.[1] : undefined;
}

/** Slack's escaped text → what the user sees in their client. */
export function decodeSlackText(text: string): string {
  return text
    .replace(/<([^<>]*)>/g, (_all, inner: string) => {
      const [target = '', label] = inner.split('|', 2) as [string, string | undefined];
      if (target.startsWith('@')) return label ? `@${label.replace(/^@/, '')}` : target;
      if (target.startsWith('#')) return label ? `#${label}` : target;
      if (target.startsWith('!subteam^')) return label ?? '@group';
      if (target.startsWith('!date^')) return label ?? target;
      if (target.startsWith('!')) return `@${target.slice(1)}`;
      return target; // a link: keep the real address, never only its label
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** User text quoted back in a reply: readable, escaped, short. */
function echo(raw: string): string {
  return escapeMrkdwn(truncate(decodeSlackText(raw), 60));
}

function invalid(sub: Subcommand, message: string): TaskCommand {
  return { kind: 'invalid', message, usage: USAGE[sub] };
}

// ---------------------------------------------------------------- add

const OPEN_QUOTES: Record<string, string[]> = { '"': ['"', '”'], '“': ['”', '"'], '”': ['”', '"'], '„': ['“', '”', '"'] };

/**
 * `rest`: what follows `add`. `repeats`: whether an `every …` clause is looked for (an unquoted
 * title's "every" followed by words that are no attempt at a rule, "Check every server", is title).
 */
function parseAdd(rest: string, ctx: ParseContext, repeats = true): TaskCommand {
  if (rest === '') return invalid('add', 'Tell me what the task is.');
  let titleRaw: string;
  let tail: Token[];
  let unquoted = false;
  let every: Token[] | undefined;
  const closers = OPEN_QUOTES[rest[0] as string];
  if (closers) {
    let close = -1;
    for (let i = 1; i < rest.length; i += 1) {
      if (closers.includes(rest[i] as string)) {
        close = i;
        break;
      }
    }
    if (close === -1) return invalid('add', 'The title’s opening quote is never closed. Put the title between two quotes, or leave the quotes out.');
    titleRaw = rest.slice(1, close);
    tail = tokenize(rest.slice(close + 1)).map((t) => ({ ...t, start: t.start + close + 1, end: t.end + close + 1 }));
    const glued = tail[0];
    if (glued && glued.start === close + 1) return invalid('add', `Leave a space after the closing quote (before "${echo(glued.text)}").`);
    ({ kept: tail, every } = extractEvery(tail, 0));
  } else {
    unquoted = true;
    let tokens: Token[];
    ({ kept: tokens, every } = repeats ? extractEvery(tokenize(rest), 1) : { kept: tokenize(rest), every: undefined });
    // The options come last: `[@assignee] [due <date>]`, in either order. The last `due` (never
    // the first word) starts the date; the mentions just before it, or at the very end, name the
    // assignee. Everything before is the title, so "Fix the due date bug" needs quotes only when
    // `due` is followed by something that is not a date, and then the reply says so.
    let dueAt = -1;
    for (let i = tokens.length - 1; i >= 1; i -= 1) {
      if ((tokens[i] as Token).text.toLowerCase() === 'due') {
        dueAt = i;
        break;
      }
    }
    // "due tomorrow" alone is a forgotten title, while "due diligence for Acme" is a title.
    if (dueAt === -1 && (tokens[0] as Token).text.toLowerCase() === 'due' && tokens.length > 1) {
      const words = tokens.slice(1).filter((t) => !mentionOf(t)).map((t) => t.text);
      if (words.length > 0 && parseDueDate(words.join(' '), ctx).ok) return invalid('add', 'The task needs a title before the assignee and due date.');
    }
    let end = dueAt === -1 ? tokens.length : dueAt;
    while (end > 0 && (mentionOf(tokens[end - 1]) || BARE_AT.test((tokens[end - 1] as Token).text))) end -= 1;
    titleRaw = end > 0 ? rest.slice((tokens[0] as Token).start, (tokens[end - 1] as Token).end) : '';
    tail = tokens.slice(end);
  }

  const options = parseAddOptions(tail, rest, ctx, unquoted);
  if ('error' in options) return invalid('add', options.error);
  const repeat = every ? parseEvery(every, unquoted) : undefined;
  if (repeat && 'error' in repeat) {
    if (unquoted && !repeat.attempt) return parseAdd(rest, ctx, false);
    return invalid('add', repeat.error);
  }
  const title = trimInput(decodeSlackText(titleRaw).replace(/\s+/g, ' '));
  if (title === '') return invalid('add', 'The task needs a title before the assignee and due date.');
  return {
    kind: 'add',
    title,
    ...(options.assigneeId ? { assigneeId: options.assigneeId } : {}),
    ...(options.dueDate ? { dueDate: options.dueDate } : {}),
    ...(repeat ? { repeat: repeat.spec } : {}),
  };
}

/**
 * Takes the `every …` clause out of the options: the last `every` (at `from` or later) and the
 * words after it up to a mention or `due`. What is left is read as before.
 */
function extractEvery(tokens: Token[], from: number): { kept: Token[]; every?: Token[] } {
  let at = -1;
  for (let i = tokens.length - 1; i >= from; i -= 1) {
    if ((tokens[i] as Token).text.toLowerCase() === 'every') {
      at = i;
      break;
    }
  }
  if (at === -1) return { kept: tokens };
  let end = at + 1;
  while (end < tokens.length) {
    const t = tokens[end] as Token;
    if (mentionOf(t) || BARE_AT.test(t.text) || t.text.toLowerCase() === 'due') break;
    end += 1;
  }
  return { kept: [...tokens.slice(0, at), ...tokens.slice(end)], every: tokens.slice(at + 1, end) };
}

/** The words after `every`: a rule, or what was wrong with them (with a "did you mean" when close). */
/** Words after `every` that can only be an attempt at a rule (refused with an explanation, never taken as title). */
const PERIOD_WORDS = new Set(
  'fortnight fortnightly year years yearly annually annual quarter quarters quarterly hour hours hourly minute minutes night nights evening evenings morning mornings weekend weekends days months weekly monthly daily biweekly other second third first last couple few'.split(' '),
);

/**
 * The words after `every`: a rule, or what was wrong with them (with a "did you mean" when close).
 * `attempt`: the words were meant as a rule (a near miss, a number, a period word, nothing at all).
 */
function parseEvery(words: Token[], unquoted: boolean): { spec: RepeatSpec } | { error: string; attempt: boolean } {
  const supported = SUPPORTED_PHRASES.map((p) => `\`${p}\``).join(', ');
  if (words.length === 0) return { error: `Say how often after \`every\`: ${supported}.`, attempt: true };
  const text = words.map((t) => decodeSlackText(t.text)).join(' ');
  const parsed = parseRepeatWords(text.split(/\s+/), closest);
  if (parsed.ok) return { spec: parsed.spec };
  const hint = unquoted ? ' If "every" is part of the title, put the title in quotes.' : '';
  if (parsed.guess) return { error: `I didn’t understand \`every ${echo(text)}\`. Did you mean \`every ${parsed.guess}\`?${hint}`, attempt: true };
  const first = (text.split(/\s+/)[0] ?? '').toLowerCase();
  const attempt = /^\d/.test(first) || PERIOD_WORDS.has(first) || ['week', 'month', 'day', 'weekday'].includes(first);
  return { error: `I can’t repeat a task \`every ${echo(text)}\`. A task can repeat ${supported}.${hint}`, attempt };
}

function parseAddOptions(
  tail: Token[],
  raw: string,
  ctx: ParseContext,
  unquoted: boolean,
): { assigneeId?: string; dueDate?: string } | { error: string } {
  const assignees = new Set<string>();
  let dueWords: Token[] | undefined;
  for (const token of tail) {
    const user = mentionOf(token);
    if (user) {
      assignees.add(user);
      continue;
    }
    if (BARE_AT.test(token.text)) {
      return { error: `I can’t tell who ${echo(token.text)} is. Pick the person from the list Slack shows as you type their name, so it becomes a mention.` };
    }
    if (dueWords === undefined) {
      if (token.text.toLowerCase() !== 'due') {
        return { error: `I didn’t understand "${echo(raw.slice(token.start))}" after the title. Only an @assignee and \`due &lt;date&gt;\` may follow it.` };
      }
      dueWords = [];
      continue;
    }
    dueWords.push(token);
  }
  if (assignees.size > 1) return { error: `A task has one assignee, and you mentioned ${assignees.size} people. Mention only the person who will do it.` };
  const [assigneeId] = [...assignees];
  if (dueWords === undefined) return assigneeId ? { assigneeId } : {};
  if (dueWords.length === 0) return { error: 'Say when it is due after `due`, e.g. `due friday` or `due 2025-03-14`.' };
  const dueText = dueWords.map((t) => decodeSlackText(t.text)).join(' ');
  const parsed = parseDueDate(dueText, ctx);
  if (!parsed.ok) {
    const hint = unquoted ? ' If "due" is part of the title, put the title in quotes.' : '';
    return { error: `I couldn’t read "${echo(dueText)}" as a due date. Try \`due 2025-03-14\`, \`due tomorrow\`, \`due friday\` or \`due in 3 days\`.${hint}` };
  }
  return { ...(assigneeId ? { assigneeId } : {}), dueDate: parsed.date };
}

// ---------------------------------------------------------------- list

const SCOPES: Record<string, ListScope> = { mine: 'mine', me: 'mine', my: 'mine', assigned: 'mine', created: 'created', all: 'all', everyone: 'all' };
const STATUSES: Record<string, ListStatus> = { open: 'open', todo: 'open', done: 'done', closed: 'done', completed: 'done' };

function parseList(rest: string): TaskCommand {
  let scope: ListScope | undefined;
  let status: ListStatus | undefined;
  for (const token of tokenize(rest)) {
    const word = token.text.toLowerCase();
    const s = SCOPES[word];
    const st = STATUSES[word];
    if (s) {
      if (scope && scope !== s) return invalid('list', `Choose one of \`mine\`, \`created\` or \`all\`, not both \`${scope}\` and \`${s}\`.`);
      scope = s;
    } else if (st) {
      if (status && status !== st) return invalid('list', `Choose \`open\` or \`done\`, not both.`);
      status = st;
    } else {
      const guess = closest(word, ['mine', 'created', 'all', 'open', 'done']);
      return invalid('list', `I don’t know the list filter "${echo(token.text)}".${guess ? ` Did you mean \`${guess}\`?` : ''}`);
    }
  }
  return { kind: 'list', scope: scope ?? 'mine', status: status ?? 'open' };
}

// ---------------------------------------------------------------- done / reopen / assign

function taskNumber(token: Token): number | undefined {
  const m = /^#?(\d{1,9})$/.exec(token.text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 ? n : undefined;
}

function notANumber(token: Token): string {
  return `"${echo(token.text)}" is not a task number. Use the number shown on the task, like \`#12\`.`;
}

function parseNumberOnly(sub: 'done' | 'reopen' | 'stop', rest: string): TaskCommand {
  const tokens = tokenize(rest);
  const [first, second] = tokens;
  if (!first) return invalid(sub, `Which task? Give its number, e.g. \`${C} ${sub} #12\`.`);
  const n = taskNumber(first);
  if (n === undefined) return invalid(sub, notANumber(first));
  if (second) return invalid(sub, `\`${C} ${sub}\` takes one task number; I didn’t understand "${echo(rest.slice(second.start))}".`);
  return { kind: sub, number: n };
}

function parseAssign(rest: string): TaskCommand {
  const tokens = tokenize(rest);
  if (tokens.length === 0) return invalid('assign', `Which task, and to whom? e.g. \`${C} assign #12 @maria\`.`);
  let number: number | undefined;
  const users = new Set<string>();
  for (const token of tokens) {
    const user = mentionOf(token);
    if (user) {
      users.add(user);
      continue;
    }
    if (BARE_AT.test(token.text)) {
      return invalid('assign', `I can’t tell who ${echo(token.text)} is. Pick the person from the list Slack shows as you type their name, so it becomes a mention.`);
    }
    const n = taskNumber(token);
    if (n === undefined) return invalid('assign', notANumber(token));
    if (number !== undefined && number !== n) return invalid('assign', 'Give one task number at a time.');
    number = n;
  }
  if (number === undefined) return invalid('assign', `Which task? e.g. \`${C} assign #12 @maria\`.`);
  if (users.size === 0) return invalid('assign', `Who should do task #${number}? Mention them: \`${C} assign #${number} @maria\`.`);
  if (users.size > 1) return invalid('assign', `A task has one assignee, and you mentioned ${users.size} people.`);
  return { kind: 'assign', number, assigneeId: [...users][0] as string };
}

// ---------------------------------------------------------------- unknown

function unknownSubcommand(word: string): TaskCommand {
  const guess = closest(word.toLowerCase(), Object.keys(ALIASES).filter((a) => a.length > 1));
  const suggestion = guess ? ALIASES[guess] : undefined;
  const message = suggestion
    ? `I don’t know \`${C} ${echo(word)}\`. Did you mean \`${C} ${suggestion}\`?`
    : `I don’t know \`${C} ${echo(word)}\`. To add a task, start with \`add\`: \`${C} add ${echo(word)} …\``;
  return { kind: 'invalid', message, usage: FULL_USAGE };
}

/** The candidate nearest to `word` (edit distance ≤ 2, or a prefix), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length >= 2) {
    const prefixed = candidates.find((c) => c.startsWith(word));
    if (prefixed) return prefixed;
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const allowed = word.length <= 3 ? 1 : 2;
  return bestDistance <= allowed ? best : undefined;
}

/** Classic edit distance (insert, delete, substitute), one row of memory. */
export function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}
