/**
 * A row id carried back to us by Slack: a button or option value, or a number in private_metadata.
 * We write ids as plain decimal digits (`String(id)`), so only those are read back: `0x1`, ` 1 `,
 * `1e0`, `-1` or a number past 2^53 are not ours and name nothing (SPEC S9).
 */
export function rowIdOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string' || !/^[1-9]\d{0,15}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
