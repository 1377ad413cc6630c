// Repeating tasks' rules: calendar maths on YYYY-MM-DD, the stored form, words.
import { describe as group, expect, it } from 'vitest';
import { closest } from '../../src/features/tasks/commandParser.js';
import {
  addDays,
  describe,
  describeRule,
  firstDue,
  formatRule,
  matches,
  nextDue,
  nextDueFrom,
  parseRepeatWords,
  parseRule,
  resolveRule,
  weekdayOf,
  type RepeatRule,
} from '../../src/features/tasks/recurrence.js';

const rule = (text: string): RepeatRule => {
  const r = parseRule(text);
  if (!r) throw new Error(`bad rule ${text}`);
  return r;
};
/** The next n due dates after `from`. */
const series = (text: string, from: string, n: number): string[] => {
  const out: string[] = [];
  let d = from;
  for (let i = 0; i < n; i += 1) out.push((d = nextDue(rule(text), d)));
  return out;
};

group('dates', () => {
  it('weekday: Monday = 1 … Sunday = 7', () => {
    expect(weekdayOf('2026-12-07')).toBe(1);
    expect(weekdayOf('2026-12-11')).toBe(5);
    expect(weekdayOf('2026-12-13')).toBe(7);
    expect(weekdayOf('2024-02-29')).toBe(4);
  });
  it('adds days across months, years and leap days', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});

group('stored form', () => {
  it.each(['daily', 'weekdays', 'weekly:1', 'weekly:7', 'weeks:2:1', 'weeks:52:3', 'monthly:1', 'monthly:31'])('%s reads back to itself', (text) => {
    expect(formatRule(rule(text))).toBe(text);
  });
  it.each(['', 'weekly', 'weekly:0', 'weekly:8', 'weeks:1:1', 'weeks:53:1', 'monthly:0', 'monthly:32', 'yearly', 'daily ', null, undefined])('%j is no rule', (text) => {
    expect(parseRule(text)).toBeUndefined();
  });
  it('a weekday or day left open is the anchor date’s', () => {
    expect(formatRule(resolveRule({ kind: 'weekly', every: 1 }, '2026-12-09'))).toBe('weekly:3');
    expect(formatRule(resolveRule({ kind: 'weekly', every: 2 }, '2026-12-13'))).toBe('weeks:2:7');
    expect(formatRule(resolveRule({ kind: 'weekly', every: 1, weekday: 1 }, '2026-12-09'))).toBe('weekly:1');
    expect(formatRule(resolveRule({ kind: 'monthly' }, '2026-01-31'))).toBe('monthly:31');
    expect(formatRule(resolveRule({ kind: 'monthly', day: 1 }, '2026-01-31'))).toBe('monthly:1');
    expect(formatRule(resolveRule({ kind: 'daily' }, '2026-01-31'))).toBe('daily');
  });
});

group('nextDue', () => {
  it('every day: across a month end, a leap day and the year end', () => {
    expect(series('daily', '2024-02-27', 4)).toEqual(['2024-02-28', '2024-02-29', '2024-03-01', '2024-03-02']);
    expect(series('daily', '2026-12-30', 3)).toEqual(['2026-12-31', '2027-01-01', '2027-01-02']);
  });
  it('every weekday: Friday → Monday, Saturday and Sunday → Monday', () => {
    expect(nextDue(rule('weekdays'), '2026-12-11')).toBe('2026-12-14'); // Fri → Mon
    expect(nextDue(rule('weekdays'), '2026-12-12')).toBe('2026-12-14'); // Sat → Mon
    expect(nextDue(rule('weekdays'), '2026-12-13')).toBe('2026-12-14'); // Sun → Mon
    expect(series('weekdays', '2026-12-07', 5)).toEqual(['2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11', '2026-12-14']);
    expect(nextDue(rule('weekdays'), '2026-12-31')).toBe('2027-01-01'); // Thu → Fri, new year
  });
  it('every Monday: a week on from a Monday, the coming Monday from any other day', () => {
    expect(series('weekly:1', '2026-12-07', 4)).toEqual(['2026-12-14', '2026-12-21', '2026-12-28', '2027-01-04']);
    expect(nextDue(rule('weekly:1'), '2026-12-11')).toBe('2026-12-14'); // Fri → Mon
    expect(nextDue(rule('weekly:1'), '2026-12-13')).toBe('2026-12-14'); // Sun → Mon
    expect(nextDue(rule('weekly:7'), '2026-12-13')).toBe('2026-12-20'); // Sun → Sun
    expect(nextDue(rule('weekly:5'), '2024-02-28')).toBe('2024-03-01'); // over the leap day
  });
  it('every 2 weeks on Monday', () => {
    expect(series('weeks:2:1', '2026-12-07', 3)).toEqual(['2026-12-21', '2027-01-04', '2027-01-18']);
    // From another day: the coming Monday, then one more week.
    expect(nextDue(rule('weeks:2:1'), '2026-12-09')).toBe('2026-12-21');
    expect(series('weeks:3:5', '2026-12-11', 2)).toEqual(['2027-01-01', '2027-01-22']);
  });
  it('every month on the 1st, and on the 31st (a shorter month: its last day, then back to the 31st)', () => {
    expect(series('monthly:1', '2026-11-01', 3)).toEqual(['2026-12-01', '2027-01-01', '2027-02-01']);
    expect(series('monthly:31', '2026-12-31', 4)).toEqual(['2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30']);
    expect(series('monthly:31', '2024-01-31', 2)).toEqual(['2024-02-29', '2024-03-31']); // leap year
    expect(series('monthly:29', '2025-01-29', 2)).toEqual(['2025-02-28', '2025-03-29']);
    expect(series('monthly:30', '2026-01-30', 2)).toEqual(['2026-02-28', '2026-03-30']);
  });
  it('every month: from a day before the rule’s day in the same month, that day', () => {
    expect(nextDue(rule('monthly:15'), '2026-03-03')).toBe('2026-03-15');
    expect(nextDue(rule('monthly:15'), '2026-03-15')).toBe('2026-04-15');
    expect(nextDue(rule('monthly:15'), '2026-12-20')).toBe('2027-01-15');
  });
});

group('firstDue (no due date given: the first matching day from today)', () => {
  it('today when today matches, else the next one', () => {
    expect(firstDue(rule('daily'), '2026-12-12')).toBe('2026-12-12');
    expect(firstDue(rule('weekdays'), '2026-12-12')).toBe('2026-12-14'); // Saturday
    expect(firstDue(rule('weekdays'), '2026-12-11')).toBe('2026-12-11');
    expect(firstDue(rule('weekly:1'), '2026-12-07')).toBe('2026-12-07');
    expect(firstDue(rule('weekly:1'), '2026-12-08')).toBe('2026-12-14');
    expect(firstDue(rule('monthly:1'), '2026-12-02')).toBe('2027-01-01');
    expect(firstDue(rule('monthly:31'), '2026-02-28')).toBe('2026-02-28'); // February's last day
    expect(firstDue(rule('monthly:31'), '2026-02-27')).toBe('2026-02-28');
  });
  it('matches', () => {
    expect(matches(rule('monthly:31'), '2026-04-30')).toBe(true);
    expect(matches(rule('monthly:31'), '2026-04-29')).toBe(false);
    expect(matches(rule('weekdays'), '2026-12-13')).toBe(false);
  });
});

group('nextDueFrom (late: skipped forward to today, never a past date)', () => {
  it('on time: the plain next date', () => {
    expect(nextDueFrom(rule('weekly:1'), '2026-12-07', '2026-12-08')).toBe('2026-12-14');
    expect(nextDueFrom(rule('daily'), '2026-12-07', '2026-12-08')).toBe('2026-12-08');
  });
  it('weeks late: the first one on or after today', () => {
    expect(nextDueFrom(rule('daily'), '2026-11-01', '2026-12-08')).toBe('2026-12-08');
    expect(nextDueFrom(rule('weekly:1'), '2026-11-02', '2026-12-08')).toBe('2026-12-14');
    expect(nextDueFrom(rule('weekly:2'), '2026-11-03', '2026-12-08')).toBe('2026-12-08');
    expect(nextDueFrom(rule('weekdays'), '2026-11-02', '2026-12-12')).toBe('2026-12-14');
    expect(nextDueFrom(rule('monthly:31'), '2026-10-31', '2027-02-10')).toBe('2027-02-28');
  });
  it('every 2 weeks keeps its fortnight', () => {
    // 2026-11-02 (Mon) + 2-week steps: 11-16, 11-30, 12-14.
    expect(nextDueFrom(rule('weeks:2:1'), '2026-11-02', '2026-12-08')).toBe('2026-12-14');
    expect(nextDueFrom(rule('weeks:2:1'), '2026-11-02', '2026-11-30')).toBe('2026-11-30');
  });
});

group('describe', () => {
  it.each([
    ['daily', 'every day'],
    ['weekdays', 'every weekday'],
    ['weekly:1', 'every Monday'],
    ['weekly:7', 'every Sunday'],
    ['weeks:2:1', 'every 2 weeks on Monday'],
    ['monthly:1', 'every month on the 1st'],
    ['monthly:2', 'every month on the 2nd'],
    ['monthly:3', 'every month on the 3rd'],
    ['monthly:11', 'every month on the 11th'],
    ['monthly:22', 'every month on the 22nd'],
    ['monthly:31', 'every month on the 31st (or the month’s last day)'],
  ])('%s → %s', (text, words) => {
    expect(describeRule(rule(text))).toBe(words);
    expect(describe(text)).toBe(words);
  });
  it('nothing for a task that does not repeat', () => {
    expect(describe(null)).toBeUndefined();
  });
});

group('words after "every"', () => {
  const words = (text: string) => parseRepeatWords(text.split(' '), closest);
  it.each([
    ['day', { kind: 'daily' }],
    ['daily', { kind: 'daily' }],
    ['weekday', { kind: 'weekdays' }],
    ['weekdays', { kind: 'weekdays' }],
    ['monday', { kind: 'weekly', every: 1, weekday: 1 }],
    ['Mondays', { kind: 'weekly', every: 1, weekday: 1 }],
    ['fri', { kind: 'weekly', every: 1, weekday: 5 }],
    ['sunday', { kind: 'weekly', every: 1, weekday: 7 }],
    ['week', { kind: 'weekly', every: 1 }],
    ['week on friday', { kind: 'weekly', every: 1, weekday: 5 }],
    ['2 weeks', { kind: 'weekly', every: 2 }],
    ['2 weeks on tuesday', { kind: 'weekly', every: 2, weekday: 2 }],
    ['other week', { kind: 'weekly', every: 2 }],
    ['month', { kind: 'monthly' }],
    ['month on the 1st', { kind: 'monthly', day: 1 }],
    ['month on the 15th', { kind: 'monthly', day: 15 }],
    ['month on 31', { kind: 'monthly', day: 31 }],
  ])('every %s', (text, spec) => {
    expect(words(text)).toEqual({ ok: true, spec });
  });
  it.each([
    ['mondy', 'monday'],
    ['wednsday', 'wednesday'],
    ['weeks', 'week'],
    ['dat', 'day'],
    ['mont', 'month'],
    ['2 wekes', '2 weeks'],
    ['2 weeks on fridy', '2 weeks on friday'],
  ])('every %s: did you mean every %s?', (text, guess) => {
    expect(words(text)).toEqual({ ok: false, guess });
  });
  it.each(['fortnight', 'year', 'month on the 32nd', '0 weeks', '53 weeks', 'day and night', 'hour'])('every %s is refused without a guess', (text) => {
    expect(words(text)).toEqual({ ok: false });
  });
});
