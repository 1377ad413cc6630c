import type { Services } from '../../services.js';
import { EVENT } from '../../slack/ids.js';
import type { ListenerRegistry } from '../../slack/registry.js';
import { COMING_SOON } from '../placeholders.js';

export function registerHome(reg: ListenerRegistry, _svc: Services): void {
  reg.event(EVENT.appHomeOpened, async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await client.views.publish({
      user_id: event.user,
      view: { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*Tasklane*\n${COMING_SOON}` } }] },
    });
  });
}
