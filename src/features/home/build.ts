import type { types } from '@slack/bolt';
import { RECENTLY_DONE_MS } from '../../store/dashboard.js';
import type { DashboardStore } from '../../store/dashboardStore.js';
import type { HomePrefs } from '../../store/homeState.js';
import { HOME_APPROVALS_SHOWN, HOME_PAGE_SIZE, homeView } from './views.js';

/** Reads the store and renders one user's Home: the whole cost of a publish except the Slack call. */
export async function buildHome(
  dashboard: DashboardStore,
  q: { teamId: string; userId: string; guest: boolean; prefs: HomePrefs; today: string; now: number },
): Promise<types.HomeView> {
  const data = await dashboard.load({
    teamId: q.teamId,
    userId: q.userId,
    guest: q.guest,
    filter: q.prefs.filter,
    page: q.prefs.page,
    pageSize: HOME_PAGE_SIZE,
    approvalsLimit: HOME_APPROVALS_SHOWN,
    today: q.today,
    doneSince: q.now - RECENTLY_DONE_MS,
  });
  return homeView({ userId: q.userId, today: q.today, dashboard: data });
}

