/**
 * Repeating tasks' rules, pure: what a user typed or picked (`RepeatSpec`), the canonical string
 * stored in `tasks.repeat_rule`, and calendar maths on `YYYY-MM-DD` dates (UTC date arithmetic on
 * calendar days only: no time zones, no clock).
 *
 * Canonical forms:
 * - `daily`            every day
 * - `weekdays`         Monday to Friday
 * - `weekly:<d>`       every week on weekday d (Monday = 1 … Sunday = 7)
 * - `weeks:<n>:<d>`    every n weeks (n ≥ 2) on weekday d
 * - `monthly:<day>`    every month on that day (1–31); a month without it: its last day
 */

export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** What the user asked for; a weekly rule's weekday or a monthly rule's day may come from the first due date. */
export type RepeatSpec =
  | { kind: 'daily' }
  | { kind: 'weekdays' }
  | { kind: 'weekly'; every: number; weekday?: Weekday }
  | { kind: 'monthly'; day?: number };

export type RepeatRule =
  | { kind: 'daily' }
  | { kind: 'weekdays' }
  | { kind: 'weekly'; every: number; weekday: Weekday }
  | { kind: 'monthly'; day: number };

export const WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const WEEKDAY_LABELS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The most weeks between two occurrences `every N weeks` accepts. */
export const MAX_WEEKS = 52;

// ---------------------------------------------------------------- dates

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

function toUtc(date: string): Date {
  const m = ISO.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

function fromUtc(d: Date): string {
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

export function addDays(date: string, days: number): string {
  const d = toUtc(date);
  d.setUTCDate(d.getUTCDate() + days);
  return fromUtc(d);
}

/** Monday = 1 … Sunday = 7. */
export function weekdayOf(date: string): Weekday {
  const js = toUtc(date).getUTCDay();
  return (js === 0 ? 7 : js) as Weekday;
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** `day` of the month (0-based month, may overflow into the next years), clamped to its last day. */
function dayOfMonth(year: number, month0: number, day: number): string {
  const y = year + Math.floor(month0 / 12);
  const m = ((month0 % 12) + 12) % 12;
  return fromUtc(new Date(Date.UTC(y, m, Math.min(day, daysInMonth(y, m)))));
}

// ---------------------------------------------------------------- rules

/** The spec made a rule: a weekday or day left open is `anchor`'s (the first due date). */
export function resolveRule(spec: RepeatSpec, anchor: string): RepeatRule {
  switch (spec.kind) {
    case 'daily':
    case 'weekdays':
      return { kind: spec.kind };
    case 'weekly':
      return { kind: 'weekly', every: spec.every, weekday: spec.weekday ?? weekdayOf(anchor) };
    case 'monthly':
      return { kind: 'monthly', day: spec.day ?? toUtc(anchor).getUTCDate() };
  }
}

export function formatRule(rule: RepeatRule): string {
  switch (rule.kind) {
    case 'daily':
      return 'daily';
    case 'weekdays':
      return 'weekdays';
    case 'weekly':
      return rule.every === 1 ? `weekly:${rule.weekday}` : `weeks:${rule.every}:${rule.weekday}`;
    case 'monthly':
      return `monthly:${rule.day}`;
  }
}

/** The stored string read back; undefined for anything that is not a canonical rule. */
export function parseRule(text: string | null | undefined): RepeatRule | undefined {
  if (!text) return undefined;
  if (text === 'daily' || text === 'weekdays') return { kind: text };
  let m = /^weekly:([1-7])$/.exec(text);
  if (m) return { kind: 'weekly', every: 1, weekday: Number(m[1]) as Weekday };
  m = /^weeks:(\d{1,2}):([1-7])$/.exec(text);
  if (m && Number(m[1]) >= 2 && Number(m[1]) <= MAX_WEEKS) return { kind: 'weekly', every: Number(m[1]), weekday: Number(m[2]) as Weekday };
  m = /^monthly:(\d{1,2})$/.exec(text);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 31) return { kind: 'monthly', day: Number(m[1]) };
  return undefined;
}

/** Whether `date` is one of the rule's days. */
export function matches(rule: RepeatRule, date: string): boolean {
  switch (rule.kind) {
    case 'daily':
      return true;
    case 'weekdays':
      return weekdayOf(date) <= 5;
    case 'weekly':
      return weekdayOf(date) === rule.weekday;
    case 'monthly': {
      const d = toUtc(date);
      return date === dayOfMonth(d.getUTCFullYear(), d.getUTCMonth(), rule.day);
    }
  }
}

/**
 * The occurrence after one due on `from` (strictly later). Every N weeks counts from `from`: the
 * first rule weekday after it, then N − 1 more weeks (from a date on the weekday: N weeks on).
 */
export function nextDue(rule: RepeatRule, from: string): string {
  switch (rule.kind) {
    case 'daily':
      return addDays(from, 1);
    case 'weekdays': {
      const wd = weekdayOf(from);
      return addDays(from, wd >= 5 ? 8 - wd : 1);
    }
    case 'weekly': {
      const ahead = ((rule.weekday - weekdayOf(from) + 6) % 7) + 1;
      return addDays(from, ahead + 7 * (rule.every - 1));
    }
    case 'monthly': {
      const d = toUtc(from);
      const inMonth = dayOfMonth(d.getUTCFullYear(), d.getUTCMonth(), rule.day);
      return inMonth > from ? inMonth : dayOfMonth(d.getUTCFullYear(), d.getUTCMonth() + 1, rule.day);
    }
  }
}

/** The first of the rule's days on or after `today`: a new series' first due date. */
export function firstDue(rule: RepeatRule, today: string): string {
  return matches(rule, today) ? today : nextDue(rule, today);
}

/**
 * The occurrence after `from`, skipped forward to the first on or after `today` (completed late,
 * or the app was down for weeks): one occurrence, never a burst of past ones.
 */
export function nextDueFrom(rule: RepeatRule, from: string, today: string): string {
  let next = nextDue(rule, from);
  if (next >= today) return next;
  // Far behind: restart from the day before today (every N weeks keeps its phase only roughly).
  if (rule.kind !== 'weekly' || rule.every === 1) return nextDue(rule, addDays(today, -1));
  for (let i = 0; i < 10_000 && next < today; i += 1) next = nextDue(rule, next);
  return next;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th'}`;
}

/** In words: "every Monday", "every 2 weeks on Monday", "every month on the 1st". */
export function describeRule(rule: RepeatRule): string {
  switch (rule.kind) {
    case 'daily':
      return 'every day';
    case 'weekdays':
      return 'every weekday';
    case 'weekly': {
      const day = WEEKDAY_LABELS[rule.weekday - 1] as string;
      return rule.every === 1 ? `every ${day}` : `every ${rule.every} weeks on ${day}`;
    }
    case 'monthly':
      return `every month on the ${ordinal(rule.day)}${rule.day > 28 ? ' (or the month’s last day)' : ''}`;
  }
}

/** The stored rule in words, or undefined when the task does not repeat. */
export function describe(ruleText: string | null | undefined): string | undefined {
  const rule = parseRule(ruleText);
  return rule ? describeRule(rule) : undefined;
}

// ---------------------------------------------------------------- words

/** What `every …` may say, for messages. */
export const SUPPORTED_PHRASES = ['every day', 'every weekday', 'every monday', 'every week', 'every 2 weeks', 'every month', 'every month on the 1st'];

export type SpecParse = { ok: true; spec: RepeatSpec } | { ok: false; guess?: string };

const WEEKDAY_ALIASES: Record<string, Weekday> = Object.fromEntries(
  WEEKDAY_NAMES.flatMap((name, i) => {
    const d = (i + 1) as Weekday;
    return [
      [name, d],
      [`${name}s`, d],
      [name.slice(0, 3), d],
    ];
  }),
);
WEEKDAY_ALIASES['tues'] = 2;
WEEKDAY_ALIASES['thu'] = 4;
WEEKDAY_ALIASES['thur'] = 4;
WEEKDAY_ALIASES['thurs'] = 4;

/**
 * The words after `every`, lower-cased: `day`, `weekday`, `monday`, `week [on monday]`,
 * `2 weeks [on monday]`, `month [on the 1st]`. `closest` suggests a near miss's fix.
 */
export function parseRepeatWords(words: string[], closest: (word: string, candidates: readonly string[]) => string | undefined): SpecParse {
  const w = words.map((x) => x.toLowerCase());
  const [first, ...rest] = w;
  if (first === undefined) return { ok: false };
  if (rest.length === 0) {
    if (first === 'day' || first === 'daily') return { ok: true, spec: { kind: 'daily' } };
    if (first === 'weekday' || first === 'weekdays') return { ok: true, spec: { kind: 'weekdays' } };
    if (first === 'week') return { ok: true, spec: { kind: 'weekly', every: 1 } };
    if (first === 'month') return { ok: true, spec: { kind: 'monthly' } };
    const weekday = WEEKDAY_ALIASES[first];
    if (weekday) return { ok: true, spec: { kind: 'weekly', every: 1, weekday } };
  }
  // every [N] week(s) [on <weekday>]
  const count = /^\d{1,3}$/.test(first) ? Number(first) : first === 'other' ? 2 : undefined;
  const unit = count !== undefined ? rest[0] : first;
  const tail = count !== undefined ? rest.slice(1) : rest;
  if ((unit === 'week' || unit === 'weeks') && (count === undefined ? unit === 'week' : true)) {
    const every = count ?? 1;
    if (every < 1 || every > MAX_WEEKS) return { ok: false };
    if (tail.length === 0) return { ok: true, spec: { kind: 'weekly', every } };
    if (tail[0] === 'on' && tail.length === 2) {
      const weekday = WEEKDAY_ALIASES[tail[1] as string];
      if (weekday) return { ok: true, spec: { kind: 'weekly', every, weekday } };
      const guess = closest(tail[1] as string, WEEKDAY_NAMES);
      return { ok: false, ...(guess ? { guess: [...w.slice(0, -1), guess].join(' ') } : {}) };
    }
    return { ok: false };
  }
  // every month [on the 1st | on 1 | on the 1]
  if (first === 'month' && count === undefined) {
    const on = rest[0] === 'on' ? rest.slice(1) : rest;
    const dayWords = on[0] === 'the' ? on.slice(1) : on;
    const m = dayWords.length === 1 ? /^(\d{1,2})(st|nd|rd|th)?$/.exec(dayWords[0] as string) : null;
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= 31) return { ok: true, spec: { kind: 'monthly', day: Number(m[1]) } };
    return { ok: false };
  }
  // A near miss of one word: `every mondy`, `every wek`.
  if (rest.length === 0) {
    const guess = closest(first, ['day', 'week', 'weekday', 'month', ...WEEKDAY_NAMES]);
    if (guess) return { ok: false, guess };
  }
  if (count !== undefined && unit !== undefined && tail.length === 0) {
    const guess = closest(unit, ['weeks']);
    if (guess) return { ok: false, guess: `${count} weeks` };
  }
  return { ok: false };
}
