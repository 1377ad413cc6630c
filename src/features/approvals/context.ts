import type { Services } from '../../services.js';
import type { ApprovalsStore } from '../../store/approvalsStore.js';
import type { ApprovalEffects } from './effects.js';

/** What requesting, deciding and recovery share: the repository, the effects a change owes, and the outbox. */
export interface ApprovalContext {
  repo: ApprovalsStore;
  effects: ApprovalEffects;
  svc: Pick<Services, 'logger' | 'now' | 'outbox'>;
}
