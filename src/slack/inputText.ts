/**
 * What people type, trimmed. Invisible format characters (zero-width space and joiners, the word
 * joiner, bidi marks, the BOM: Unicode's `Cf`) and the blank-looking Hangul and Braille fillers
 * count as whitespace, so a title made only of them is blank rather than a title nobody can see.
 * Inside the text they stay: a zero-width joiner holds an emoji sequence together.
 */
const INVISIBLE = '\\s\\p{Cf}\\u115F\\u1160\\u2800\\u3164\\uFFA0';
const EDGES = new RegExp(`^[${INVISIBLE}]+|[${INVISIBLE}]+$`, 'gu');
const BLANK = new RegExp(`^[${INVISIBLE}]*$`, 'u');

/** `text` without whitespace or invisible characters at either end. */
export function trimInput(text: string): string {
  return text.replace(EDGES, '');
}

/** true when `text` has nothing visible in it. */
export function isBlank(text: string): boolean {
  return BLANK.test(text);
}
