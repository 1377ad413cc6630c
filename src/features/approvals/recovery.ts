import type { ApprovalContext } from './context.js';
import { cardKey } from './effects.js';

/**
 * Start-up check: what a store from before the outbox still owes (decided steps not completed,
 * pending approvals with unsent cards) is in the outbox. A no-op for effects already there.
 */
export async function ensureEffects(ctx: ApprovalContext): Promise<number> {
  const now = ctx.svc.now();
  const outbox = ctx.svc.outbox.repo;
  // A step whose completion is in the outbox already is on its way: only the others are owed.
  const absent = async (key: string) => (await outbox.byKey(key)) === undefined;
  const steps = await kept(await ctx.repo.stepsToComplete(), (a) => absent(`step:${a.functionExecutionId ?? ''}`));
  const unsent = await kept(await ctx.repo.pendingWithUnsentCards(now - UNSENT_HORIZON_MS, now), async (a) => (await Promise.all(a.approvers.map((p) => absent(cardKey(a, p.userId))))).some(Boolean));
  const effects = [...steps.flatMap((a) => (a.status === 'failed' ? ctx.effects.failed(a, now) : ctx.effects.decided(a, now))), ...unsent.flatMap((a) => ctx.effects.unsent(a))];
  if (effects.length > 0) await ctx.svc.outbox.add(effects);
  return effects.length;
}

/** The items `test` holds for (asked of all at once). */
async function kept<T>(items: T[], test: (item: T) => Promise<boolean>): Promise<T[]> {
  const held = await Promise.all(items.map(test));
  return items.filter((_, i) => held[i]);
}

/**
 * Pending approvals whose cards went missing longer ago than this are left as they are (their
 * approvers still find them under "Waiting on you" in the App Home).
 */
const UNSENT_HORIZON_MS = 7 * 24 * 60 * 60 * 1000;
