import { describe, expect, it } from 'vitest';
import { addDays, earliestStartOf, isWorkingDay, weekday, workingDayOnOrAfter, zonedInstant } from '../../src/features/tasks/localTime.js';

const utc = (iso: string) => Date.parse(iso);

describe('zonedInstant: a local wall time as a UTC instant', () => {
  it('09:00 in zones west, east, half-hour and across the date line', () => {
    expect(zonedInstant('2026-12-04', 9, 'America/Los_Angeles')).toBe(utc('2026-12-04T17:00:00Z'));
    expect(zonedInstant('2026-12-04', 9, 'Europe/Berlin')).toBe(utc('2026-12-04T08:00:00Z'));
    expect(zonedInstant('2026-12-04', 9, 'Asia/Kolkata')).toBe(utc('2026-12-04T03:30:00Z'));
    // Auckland in summer (NZDT, +13): 09:00 on the 4th is still the 3rd in UTC.
    expect(zonedInstant('2026-12-04', 9, 'Pacific/Auckland')).toBe(utc('2026-12-03T20:00:00Z'));
    expect(zonedInstant('2026-07-01', 9, 'Pacific/Auckland')).toBe(utc('2026-06-30T21:00:00Z'));
    expect(zonedInstant('2026-12-04', 0, 'UTC')).toBe(utc('2026-12-04T00:00:00Z'));
    expect(zonedInstant('2026-12-04', 23, 'UTC')).toBe(utc('2026-12-04T23:00:00Z'));
  });

  it('an unknown zone name is UTC', () => {
    expect(zonedInstant('2026-12-04', 9, 'Mars/Olympus')).toBe(utc('2026-12-04T09:00:00Z'));
  });

  it('Europe/Berlin spring forward (2026-03-29): 09:00 is CEST that day, CET the day before', () => {
    expect(zonedInstant('2026-03-28', 9, 'Europe/Berlin')).toBe(utc('2026-03-28T08:00:00Z'));
    expect(zonedInstant('2026-03-29', 9, 'Europe/Berlin')).toBe(utc('2026-03-29T07:00:00Z'));
    // 02:00 does not exist: the next valid instant, 03:00 CEST.
    expect(zonedInstant('2026-03-29', 2, 'Europe/Berlin')).toBe(utc('2026-03-29T01:00:00Z'));
    expect(zonedInstant('2026-03-29', 1, 'Europe/Berlin')).toBe(utc('2026-03-29T00:00:00Z'));
  });

  it('America/Los_Angeles spring forward (2026-03-08) and fall back (2026-11-01)', () => {
    expect(zonedInstant('2026-03-07', 9, 'America/Los_Angeles')).toBe(utc('2026-03-07T17:00:00Z'));
    expect(zonedInstant('2026-03-08', 9, 'America/Los_Angeles')).toBe(utc('2026-03-08T16:00:00Z'));
    // 02:00 is skipped: 03:00 PDT.
    expect(zonedInstant('2026-03-08', 2, 'America/Los_Angeles')).toBe(utc('2026-03-08T10:00:00Z'));
    expect(zonedInstant('2026-10-31', 9, 'America/Los_Angeles')).toBe(utc('2026-10-31T16:00:00Z'));
    expect(zonedInstant('2026-11-01', 9, 'America/Los_Angeles')).toBe(utc('2026-11-01T17:00:00Z'));
    // 01:00 happens twice (PDT, then PST): the first.
    expect(zonedInstant('2026-11-01', 1, 'America/Los_Angeles')).toBe(utc('2026-11-01T08:00:00Z'));
    expect(zonedInstant('2026-11-01', 2, 'America/Los_Angeles')).toBe(utc('2026-11-01T10:00:00Z'));
  });

  it('Pacific/Auckland fall back (2026-04-05, 03:00 happens twice) and spring forward (2026-09-27, 02:00 skipped)', () => {
    expect(zonedInstant('2026-04-05', 2, 'Pacific/Auckland')).toBe(utc('2026-04-04T13:00:00Z'));
    expect(zonedInstant('2026-04-05', 9, 'Pacific/Auckland')).toBe(utc('2026-04-04T21:00:00Z'));
    expect(zonedInstant('2026-09-27', 2, 'Pacific/Auckland')).toBe(utc('2026-09-26T14:00:00Z'));
    expect(zonedInstant('2026-09-27', 9, 'Pacific/Auckland')).toBe(utc('2026-09-26T20:00:00Z'));
  });
});

describe('calendar days and working days', () => {
  it('adds days across months, years and DST changes (calendar, not 24 h)', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-28', 1)).toBe('2026-03-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-03', 7)).toBe('2026-12-10');
  });

  it('Mon–Fri are working days; a weekend moves to Monday', () => {
    expect(weekday('2026-12-03')).toBe(4); // Thursday
    expect(isWorkingDay('2026-12-04')).toBe(true);
    expect(isWorkingDay('2026-12-05')).toBe(false);
    expect(isWorkingDay('2026-12-06')).toBe(false);
    expect(workingDayOnOrAfter('2026-12-04')).toBe('2026-12-04');
    expect(workingDayOnOrAfter('2026-12-05')).toBe('2026-12-07');
    expect(workingDayOnOrAfter('2026-12-06')).toBe('2026-12-07');
  });

  it('a date begins first in UTC+14', () => {
    expect(earliestStartOf('2026-12-04')).toBe(utc('2026-12-03T10:00:00Z'));
    expect(earliestStartOf('2026-12-04')).toBeLessThanOrEqual(zonedInstant('2026-12-04', 0, 'Pacific/Kiritimati'));
  });
});
