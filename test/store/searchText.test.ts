import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldForSearch as fold, titleQuery } from '../../src/store/searchText.js';

describe('foldForSearch', () => {
  it.each([
    // German, French, Spanish, Nordic, Polish, Vietnamese: accents and case gone
    ['Über', 'uber'],
    ['ÜBER', 'uber'],
    ['Straße', 'strasse'],
    ['STRASSE', 'strasse'],
    ['GROẞE', 'grosse'],
    ['Crème Brûlée', 'creme brulee'],
    ['Año Niño', 'ano nino'],
    ['Łódź', 'lodz'],
    ['Ørsted Ærø', 'orsted aero'],
    ['Œuvre', 'oeuvre'],
    ['Đorđe Ħal Ŧ', 'dorde hal t'],
    ['Tiếng Việt', 'tieng viet'],
    // Greek: tonos and final sigma
    ['ΣΟΦΟΣ', 'σοφοσ'],
    ['σοφός', 'σοφοσ'],
    ['Σίσυφος', 'σισυφοσ'],
    // Cyrillic: ё and й lose their marks
    ['Ёлка', 'елка'],
    ['ПРИВЕТ Мир', 'привет мир'],
    ['Йогурт', 'иогурт'],
    // Turkish: all four i's are one letter for search
    ['İSTANBUL', 'istanbul'],
    ['IŞIK', 'isik'],
    ['ışık', 'isik'],
    ['Iİıi', 'iiii'],
    // Compatibility forms
    ['ﬁnance ﬂow', 'finance flow'],
    ['Ａｂｃ １２３', 'abc 123'],
    ['x² ½', 'x2 1⁄2'],
    ['Ⅻ', 'xii'],
    ['ſ', 's'],
    ['ϐϑϕ', 'βθφ'],
    ['µ', 'μ'],
    // Hebrew and Arabic vowel points go
    ['שָׁלוֹם', 'שלום'],
    ['مُحَمَّد', 'محمد'],
    // Whitespace
    ['  a \t\n b\u00a0\u3000c  ', 'a b c'],
    ['a\u0000b\u0085c\u0007', 'a b c'],
    ['', ''],
  ])('%j → %j', (text, folded) => {
    expect(fold(text)).toBe(folded);
  });

  it('keeps CJK, kana, Hangul, emoji and punctuation as they are', () => {
    expect(fold('東京タワー 会議')).toBe('東京タワー 会議');
    expect(fold('🚀 launch 🎉')).toBe('🚀 launch 🎉');
    expect(fold('%_\\"*^:()')).toBe('%_\\"*^:()');
    // Hangul is spelled out as jamo (NFKD), the same way in titles and queries.
    expect(fold('회의')).toBe('회의'.normalize('NFKD'));
    expect(fold('회의').includes(fold('회'))).toBe(true);
  });

  it('keeps the marks that make a different letter: Japanese (han)dakuten, Indic and Thai vowel signs', () => {
    expect(fold('がっこう')).not.toBe(fold('かっこう'));
    expect(fold('ｶﾞｯｺｳ')).toBe(fold('ガッコウ'));
    expect(fold('हिन्दी')).toBe('हिन्दी'.normalize('NFKD'));
    expect(fold('ไม้')).toBe('ไม้');
  });

  it('drops marks on symbols and a mark with nothing before it', () => {
    expect(fold('❤️')).toBe('❤');
    expect(fold('1️⃣')).toBe('1');
    expect(fold('\u0301abc')).toBe('abc');
  });

  it('is idempotent', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => fold(fold(s)) === fold(s)));
  });

  it('a piece of a title, folded, is a piece of the folded title (a search never finds less)', () => {
    // Pieces that begin with a mark are left out: such a mark has no letter to belong to.
    const piece = fc.string({ unit: 'grapheme', minLength: 1 }).filter((s) => !/^\p{M}/u.test(s));
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), piece, fc.string({ unit: 'grapheme' }), (before, b, after) =>
        fold(before + b + after).includes(fold(b)),
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), piece, fc.string({ unit: 'binary' }), (before, b, after) =>
        fold(before + b + after).includes(fold(b)),
      ),
      { numRuns: 500 },
    );
  });
});

describe('titleQuery', () => {
  it('folds the query and asks the index for its first and last trigrams, quoted', () => {
    expect(titleQuery('  ')).toBeNull();
    expect(titleQuery('\u0301')).toBeNull();
    expect(titleQuery('Üb')).toEqual({ text: 'ub', match: null });
    expect(titleQuery('Über')).toEqual({ text: 'uber', match: '"ube" AND "ber"' });
    expect(titleQuery('abc')).toEqual({ text: 'abc', match: '"abc"' });
    expect(titleQuery('say "hi" NOT*')).toEqual({ text: 'say "hi" not*', match: '"say" AND "ot*"' });
    expect(titleQuery('"""')).toEqual({ text: '"""', match: '""""""""' });
    expect(titleQuery('🚀🚀🚀x')).toEqual({ text: '🚀🚀🚀x', match: '"🚀🚀🚀" AND "🚀🚀x"' });
  });
});
