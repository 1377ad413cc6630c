import type { Services } from '../../services.js';
import { FUNCTION, SHORTCUT } from '../../slack/ids.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { placeholderFunction, placeholderGlobalShortcut } from '../placeholders.js';

export function registerApprovals(reg: ListenerRegistry, _svc: Services): void {
  placeholderFunction(reg, FUNCTION.requestApproval);
  placeholderGlobalShortcut(reg, SHORTCUT.requestApproval, 'Request approval');
}
