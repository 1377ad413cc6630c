import { describe, expect, it } from 'vitest';
import { isBlank, trimInput } from '../../src/slack/inputText.js';

describe('typed text: invisible characters count as whitespace', () => {
  it.each(['', ' \n\t', '\u200B', '\u200C\u200D', '\u2060', '\uFEFF', '\u00AD', '\u202E\u202C', '\u3164', ' \u200B \u2800 '])('%j is blank', (text) => {
    expect(isBlank(text)).toBe(true);
    expect(trimInput(text)).toBe('');
  });

  it('trims them at the ends and keeps them inside (an emoji sequence, a name)', () => {
    expect(trimInput('\u200B Order toner\u2060 ')).toBe('Order toner');
    expect(trimInput('👩\u200D💻 standup')).toBe('👩\u200D💻 standup');
    expect(isBlank('a\u200B')).toBe(false);
  });
});
