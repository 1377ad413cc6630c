/**
 * Title search text: what is stored in `tasks.title_search` and what a query is turned into, so
 * that finding a task ignores case and accents in every script ("uber" finds "Über", "strasse"
 * finds "Straße", "σοφος" finds "ΣΟΦΟΣ").
 *
 * The fold works letter by letter (a mark goes with the letter before it; whitespace runs become
 * one space), so a query that is part of a title stays part of the folded title: folding makes
 * a search find more, never less. In order:
 * - NFKD: accents split off their letters; compatibility forms become plain ones (ligature `ﬁ`
 *   → `fi`, full-width `Ａ` → `A`, `²` → `2`, the Kelvin and micro signs, Greek symbol forms
 *   `ϐ ϑ ϕ ϖ ϰ ϱ ϵ`, long `ſ`);
 * - lower case, then what Unicode's full case folding does beyond lower-casing: `ß` (and `ẞ`)
 *   → `ss`, final `ς` → `σ`; NFKD already covers its other multi-letter foldings (`ŉ`, `ǰ`, `ΐ`,
 *   `ﬀ`…`ﬆ`, Armenian ligatures);
 * - combining marks (`\p{M}`) dropped where they are accents that people leave out: on Latin,
 *   Greek and Cyrillic letters (`é`, `ά`, and `ё`/`й` → `е`/`и`, looser than a Russian reader
 *   but never stricter), Hebrew and Arabic vowel points, and on symbols and digits (emoji
 *   variation selectors, keycaps). Where a mark makes a different letter or sound it stays:
 *   Indic and Thai vowel signs (`हिन्दी` is not `हनद`), Japanese (han)dakuten (`が` is not
 *   `か`; `ｶﾞ` still finds `ガ`, both become `カ` + the same mark);
 * - letters with a stroke or bar that Unicode does not decompose, as people type them without
 *   it: `ł ø đ ħ ŧ` → `l o d h t`, and `æ œ` → `ae oe`;
 * - Turkish: dotted `İ`, dotless `ı`, `I` and `i` all fold to `i`. Locale-free lower-casing
 *   would make `IŞIK` into `işik`, which a Turkish `ışık` would then not find; folding both
 *   i's together finds it, and costs only a few extra matches between the two i's;
 * - runs of whitespace (any Unicode space, and control characters such as NUL) become one
 *   space, and the ends are trimmed.
 * CJK ideographs, kana without marks, Hangul (spelled out as jamo by NFKD), emoji and
 * punctuation are kept as they are.
 * Changing the fold changes what is stored: add a migration that folds every title again
 * (`UPDATE tasks SET title_search = tasklane_fold(title)`; openStore registers the function).
 */

/** What Unicode case folding or common usage does that NFKD + `toLowerCase` do not. */
const EXTRA_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ς: 'σ',
  ı: 'i',
  ł: 'l',
  ø: 'o',
  đ: 'd',
  ħ: 'h',
  ŧ: 't',
  æ: 'ae',
  œ: 'oe',
};
const EXTRA = new RegExp(`[${Object.keys(EXTRA_FOLDS).join('')}]`, 'gu');
/** A base character followed by its marks (or marks with no base, at the start). */
const MARKED = /(\P{M})?(\p{M}+)/gu;
/** Scripts whose marks are accents; Common covers symbols, digits and emoji. */
const ACCENTED = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Common}]/u;
const SPACES = /[\s\p{Cc}]+/gu;

/** `text` folded for search (see above): stored beside a title, and applied to every query. */
export function foldForSearch(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(EXTRA, (c) => EXTRA_FOLDS[c] ?? c)
    .replace(MARKED, (all, base: string | undefined) => (base === undefined ? '' : ACCENTED.test(base) ? base : all))
    .replace(SPACES, ' ')
    .trim();
}

/**
 * How many of a workspace's newest tasks (by number) a query of one or two characters reads. Such
 * a query makes no trigram, so no index can find it: it reads the workspace newest first, and only
 * this far back (a title holding "qa" 5,000 tasks ago is found once a third character is typed).
 */
export const SHORT_QUERY_REACH = 1000;

/** A search hit carries this many characters of its title at most: an option shows 75. */
export const HIT_TITLE_CHARS = 200;

/** A title query, ready for the store. */
export interface TitleQuery {
  /** The folded query: a task matches when its `title_search` contains it. */
  text: string;
  /**
   * The FTS5 query for `tasks_fts` (trigram tokenizer): the query's first and last trigrams,
   * quoted, AND-ed. It finds rows holding both, which the caller narrows to those holding `text`.
   * Two, not every trigram: each term costs a walk through every segment of the index, and the
   * ends already narrow a workspace to a few rows (docs/performance.md). null under 3 characters:
   * no trigram to look up.
   */
  match: string | null;
}

/** What `query` searches for, or null when nothing is left of it once folded. */
export function titleQuery(query: string): TitleQuery | null {
  const text = foldForSearch(query);
  if (text === '') return null;
  const chars = [...text]; // code points, as the trigram tokenizer counts
  if (chars.length < 3) return { text, match: null };
  const trigrams = new Set([chars.slice(0, 3).join(''), chars.slice(-3).join('')]);
  // Inside double quotes FTS5 syntax characters are plain text; a quote is written twice.
  return { text, match: [...trigrams].map((t) => `"${t.replaceAll('"', '""')}"`).join(' AND ') };
}
