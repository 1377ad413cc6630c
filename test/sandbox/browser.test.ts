import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, startMain, waitForHealthy, type RunningProcess } from '../support/process.js';

/**
 * The sandbox in a real browser: `npm start`'s entry point with no Slack variables, driven with
 * Debian's chromium through playwright-core. Each flow asserts on what the page shows and on
 * what the store holds. A failing flow leaves a screenshot in test-results/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Locally these tests need Debian's chromium (see the README); in CI its absence is a failure.
const HAVE_CHROMIUM = existsSync(CHROMIUM) || process.env.CI !== undefined;
const SHOTS = join(REPO_ROOT, 'test-results');


/** The local addresses the process listens on for `port`, read from /proc (no traffic sent). */
function listeningAddresses(pid: number, port: number): string[] {
  const found: string[] = [];
  for (const file of ['tcp', 'tcp6']) {
    const path = `/proc/${pid}/net/${file}`;
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [addr, portHex] = (cols[1] ?? '').split(':');
      if (cols[3] === '0A' && portHex && parseInt(portHex, 16) === port) found.push(addr ?? '');
    }
  }
  return found;
}

describe.skipIf(!HAVE_CHROMIUM)('the sandbox in a browser (npm start with no Slack credentials)', () => {
  let dir: string;
  let proc: RunningProcess;
  let base: string;
  let port: number;
  let browser: Browser;
  let page: Page;
  let db: Database.Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-sandbox-'));
    port = await freePort();
    proc = startMain({ PORT: String(port), DATABASE_URL: join(dir, 'sandbox.db'), LOG_LEVEL: 'info' });
    base = `http://127.0.0.1:${port}`;
    await waitForHealthy(`${base}/healthz`, 30_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    db = new Database(join(dir, 'sandbox.db'), { readonly: true, fileMustExist: true });
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, `sandbox-${ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`), fullPage: true }).catch(() => {});
    }
  });

  afterAll(async () => {
    db?.close();
    await browser?.close();
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const as = async (personId: string) => {
    await page.selectOption('#as', personId);
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('as'))).toBe(personId);
  };
  const openPane = (label: string) => page.locator('#sidebar button', { hasText: label }).click();
  const send = async (text: string) => {
    await page.fill('#composer input', text);
    await page.press('#composer input', 'Enter');
  };
  const task = (number: number) => db.prepare('SELECT * FROM tasks WHERE number = ?').get(number) as Record<string, unknown> | undefined;

  it('serves the page on loopback only, says it is a sandbox, and logs where to open it', async () => {
    expect(proc.output()).toContain(`Tasklane sandbox: open http://localhost:${port}/`);
    const addresses = listeningAddresses(proc.child.pid as number, port);
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => a === '0100007F')).toBe(true); // 127.0.0.1
    await page.goto(`${base}/?as=U0ALICE`);
    await expect.poll(() => page.textContent('.banner')).toContain('Nothing here reaches a real Slack workspace');
  });

  it('/task add … @bob due friday → Bob’s DM card → Bob completes it → card, Homes and store updated', async () => {
    await page.goto(`${base}/?as=U0ALICE`);
    await send('/task add Write the launch post @bob due friday');
    const ephemeral = page.locator('.ephemeral', { hasText: 'Write the launch post' });
    await ephemeral.waitFor();
    expect(await ephemeral.textContent()).toContain('Only visible to you');
    expect(task(1)).toMatchObject({ title: 'Write the launch post', assignee_id: 'U0BOB', creator_id: 'U0ALICE', status: 'open' });

    await as('U0BOB');
    await openPane('Tasklane · Messages');
    const card = page.locator('.msg', { hasText: '#1 Write the launch post' });
    await card.locator('button[data-action-id="task_complete"]').click();
    await expect.poll(() => (task(1) as { status: string }).status).toBe('done');
    expect(task(1)).toMatchObject({ completed_by: 'U0BOB' });
    // The card updates in place: no Complete button left.
    await expect.poll(() => card.locator('button[data-action-id="task_complete"]').count()).toBe(0);

    await openPane('Tasklane · Home');
    await page.locator('[data-container="home"] .block').first().waitFor();
    expect(await page.locator('[data-container="home"]').textContent()).not.toContain('Write the launch post');

    // Alice, the creator, is told, and her Home is drawn from the same store.
    await as('U0ALICE');
    await openPane('Tasklane · Messages');
    await expect.poll(() => page.locator('#messages').textContent()).toMatch(/bob.*completed/i);
    await openPane('Tasklane · Home');
    const home = page.locator('[data-container="home"]');
    await home.locator('select[data-action-id="home_filter"]').selectOption({ label: 'Recently done' });
    await expect.poll(() => home.textContent()).toContain('Write the launch post');
  });

  it('request_approval from Workflows → Bob rejects → an empty reason is refused under its input → a reason completes the step with approved=false', async () => {
    await page.goto(`${base}/?as=U0ALICE`);
    await openPane('Workflows');
    const form = page.locator('form[data-workflow="request_approval"]');
    await form.locator('select[name="approver"]').selectOption('U0BOB');
    await form.locator('input[name="title"]').fill('Budget for the offsite');
    await form.locator('select[name="requester"]').selectOption('U0ALICE');
    await form.locator('button[type="submit"]').click();
    await form.locator('.run .state-running').waitFor();

    await as('U0BOB');
    await openPane('Tasklane · Messages');
    const request = page.locator('.msg', { hasText: 'Budget for the offsite' });
    await request.locator('button[data-action-id="approval_reject"]').click();
    const modal = page.locator('.modal');
    await modal.waitFor();
    await modal.locator('[data-modal-submit]').click();
    await expect.poll(() => modal.locator('.input-error').first().textContent()).not.toBe('');
    expect((db.prepare("SELECT status FROM approvals WHERE title = 'Budget for the offsite'").get() as { status: string }).status).toBe('pending');

    await modal.locator('textarea, input[type="text"]').first().fill('Over the quarter’s limit');
    await modal.locator('[data-modal-submit]').click();
    await page.locator('.modal').waitFor({ state: 'detached' });
    await expect.poll(() => (db.prepare("SELECT status, comment, decided_by FROM approvals WHERE title = 'Budget for the offsite'").get() as Record<string, unknown>)).toEqual({
      status: 'rejected',
      comment: 'Over the quarter’s limit',
      decided_by: 'U0BOB',
    });

    await openPane('Workflows');
    const run = page.locator('form[data-workflow="request_approval"] .run').first();
    await expect.poll(() => run.textContent()).toContain('completed');
    expect(await run.textContent()).toContain('"approved":false');
    expect(await run.textContent()).toContain('Over the quarter’s limit');
  });

  it('Home → details → Edit (pushed onto the stack) → submit → the details view below is refreshed', async () => {
    await page.goto(`${base}/?as=U0BOB`);
    await openPane('# general');
    await send('/task add Review the budget');
    await page.locator('.ephemeral', { hasText: 'Review the budget' }).waitFor();
    const number = (db.prepare("SELECT number FROM tasks WHERE title = 'Review the budget'").get() as { number: number }).number;

    await openPane('Tasklane · Home');
    const row = page.locator('[data-container="home"] .block.section', { hasText: 'Review the budget' });
    await row.locator('select[data-action-id="home_task_overflow"]').selectOption({ label: 'Open' });
    const modal = page.locator('.modal');
    await expect.poll(() => modal.locator('header h2').textContent()).toMatch(/task/i);
    await modal.locator('button[data-action-id="details_edit"]').click();
    await expect.poll(() => modal.locator('.stack').textContent()).toBe('view 2 of 2');
    await modal.locator('input[type="text"]').first().fill('Review the Q3 budget');
    await modal.locator('[data-modal-submit]').click();
    await expect.poll(() => modal.locator('.stack').textContent()).toBe('');
    await expect.poll(() => modal.locator('.body').textContent()).toContain('Review the Q3 budget');
    expect(task(number)).toMatchObject({ title: 'Review the Q3 budget' });
    await modal.locator('[data-modal-close]').click();
    await page.locator('.modal').waitFor({ state: 'detached' });
  });

  it('Make a task on a long message → the New task form, prefilled → a reply in the message’s thread', async () => {
    await page.goto(`${base}/?as=U0ALICE`);
    await openPane('# general');
    const long = `Can someone compare the three venue quotes for the offsite and summarise them? ${'More context about the venues. '.repeat(12)}`;
    await send(long);
    const message = page.locator('.msg', { hasText: 'Can someone compare the three venue quotes' });
    await message.hover();
    await message.locator('[data-message-menu]').click();
    await message.locator('[data-message-shortcut="task_from_message"]').click();
    const modal = page.locator('.modal');
    await expect.poll(() => modal.locator('input[type="text"]').first().inputValue()).toContain('Can someone compare the three venue quotes');
    await modal.locator('[data-modal-submit]').click();
    await page.locator('.modal').waitFor({ state: 'detached' });
    // The form closes with the ack; the task is stored right after it.
    await expect.poll(() => db.prepare("SELECT origin FROM tasks WHERE title LIKE 'Can someone compare%'").get()).toEqual({ origin: 'message' });
    const made = db.prepare("SELECT source_permalink FROM tasks WHERE title LIKE 'Can someone compare%'").get() as Record<string, unknown>;
    expect(String(made['source_permalink'])).toMatch(/^https?:\/\//);
    await expect.poll(() => page.locator('.thread').textContent()).toMatch(/task/i);
  });

  it('a change made in one tab shows up in every open tab, live', async () => {
    await page.goto(`${base}/?as=U0CHEN`);
    await openPane('Tasklane · Messages');
    const other = await browser.newPage();
    try {
      await other.goto(`${base}/?as=U0ALICE`);
      await other.fill('#composer input', '/task add Book the venue @chen');
      await other.press('#composer input', 'Enter');
      // Chen's tab did nothing: the card arrives through the live updates.
      await page.locator('.msg', { hasText: 'Book the venue' }).waitFor();
      await page.locator('.msg', { hasText: 'Book the venue' }).locator('button[data-action-id="task_complete"]').click();
      await expect.poll(() => other.locator('.ephemeral', { hasText: 'Book the venue' }).count()).toBe(1);
      await other.locator('#sidebar button', { hasText: 'Tasklane · Messages' }).click();
      await expect.poll(() => other.locator('#messages').textContent()).toMatch(/chen.*completed/i);
    } finally {
      await other.close();
    }
  });

  it('a ✅ reaction on a task card completes it', async () => {
    await page.goto(`${base}/?as=U0ALICE`);
    await openPane('# general');
    await send('/task add Order the banners');
    await page.locator('.ephemeral', { hasText: 'Order the banners' }).waitFor();
    await openPane('Tasklane · Messages');
    const card = page.locator('.msg', { hasText: 'Order the banners' }).filter({ hasText: 'Assignee' });
    await card.hover();
    await card.locator('[data-react="white_check_mark"]').click();
    await expect.poll(() => (db.prepare("SELECT status FROM tasks WHERE title = 'Order the banners'").get() as { status: string }).status).toBe('done');
    await expect.poll(() => card.locator('.reactions').textContent()).toContain('✅ 1');
  });

  it('a task made from a private channel’s message stays private: Chen, outside the channel, and Dana, a guest, never see it', async () => {
    await page.goto(`${base}/?as=U0ALICE`);
    await openPane('🔒 launch-plans');
    const message = page.locator('.msg', { hasText: 'Private channel' });
    await message.hover();
    await message.locator('[data-message-menu]').click();
    await message.locator('[data-message-shortcut="task_from_message"]').click();
    const modal = page.locator('.modal');
    await expect.poll(() => modal.locator('input[type="text"]').first().inputValue()).toContain('Private channel');
    await modal.locator('input[type="text"]').first().fill('Draft the secret launch date');
    await modal.locator('[data-modal-submit]').click();
    await page.locator('.modal').waitFor({ state: 'detached' });
    await expect.poll(() => db.prepare("SELECT private FROM tasks WHERE title = 'Draft the secret launch date'").get()).toEqual({ private: 1 });

    for (const outsider of ['U0CHEN', 'U0DANA']) {
      await as(outsider);
      await openPane('# general');
      await send('/task list all');
      await expect.poll(() => page.locator('.ephemeral').last().textContent()).not.toBe('');
      expect(await page.locator('#messages').textContent()).not.toContain('secret launch date');
      await openPane('Tasklane · Home');
      await page.locator('[data-container="home"] .block').first().waitFor();
      expect(await page.locator('[data-container="home"]').textContent()).not.toContain('secret launch date');
    }
  });

  it('the Home search loads its options through block_suggestion', async () => {
    await page.goto(`${base}/?as=U0BOB`);
    await openPane('Tasklane · Home');
    const search = page.locator('[data-container="home"] .external[data-action-id="home_search"] input[type="search"]');
    await search.fill('Q3');
    await expect.poll(() => page.locator('.external-options').textContent()).toContain('Review the Q3 budget');
  });
});
