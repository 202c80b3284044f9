// The dashboard's audit log (/dashboard/audit): what was done shows up,
// the filters go through the URL and back into the form, the CSV export
// downloads the filtered rows, the empty state offers "Clear filters", and
// the page passes axe and fits a 360 px screen.
//
// Every test signs in as the organisation's one dashboard user, so other
// tests' events share the log: each looks only for what it made itself.
import type { Page } from '@playwright/test';
import * as fs from 'node:fs';
import { readFixtures } from '../support/env';
import { test, expect } from '../support/fixtures';
import { axeTest, expectNoAxeViolations, signIn, unique } from '../support/dashboard';

const AUDIT = '/dashboard/audit';
const CSV_HEADER = 'at,actorEmail,actorUserId,action,target,detail';

/** Creates a test API key on the keys page; its id. */
async function createKey(page: Page): Promise<string> {
  await page.goto('/dashboard/keys');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const created = page.getByRole('status');
  await expect(created).toContainText(/The test key key_\w+ is created\./);
  const id = (await created.textContent())?.match(/key_\w+/)?.[0];
  expect(id).toBeTruthy();
  return id!;
}

/** Today in UTC, as a date field holds it. */
function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

function eventRows(page: Page) {
  return page.getByRole('region', { name: 'Audit events' }).locator('tbody').getByRole('row');
}

test('an action shows in the audit log; the filters round-trip through the URL; the CSV downloads', async ({
  page,
}) => {
  const { email } = readFixtures().dashboard;
  await signIn(page);
  const key = await createKey(page);

  // From the navigation.
  await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(new RegExp(`${AUDIT}$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit log');
  await expect(page).toHaveTitle(/^Audit log/);

  // Filter as a person would: a plain GET form, so the URL says it all.
  await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'API key created' });
  await page.getByRole('searchbox', { name: 'Actor email' }).fill(email);
  await page.getByLabel('From', { exact: true }).fill(todayUtc());
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/[?&]action=api_key_created/);
  await expect(page).toHaveURL(new RegExp(`[?&]actor=${encodeURIComponent(email)}`));
  await expect(page).toHaveURL(new RegExp(`[?&]from=${todayUtc()}`));
  const row = eventRows(page).filter({ hasText: key });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('API key created');
  await expect(row).toContainText(email);
  await expect(row.locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  await expect(row.locator('time')).toHaveText(/UTC$/);

  // The same URL, opened again, fills the form with the same filters.
  await page.goto(page.url());
  await expect(page.getByRole('combobox', { name: 'Action' })).toHaveValue('api_key_created');
  await expect(page.getByRole('searchbox', { name: 'Actor email' })).toHaveValue(email);
  await expect(page.getByLabel('From', { exact: true })).toHaveValue(todayUtc());
  await expect(eventRows(page).filter({ hasText: key })).toHaveCount(1);

  // The export holds the filtered rows.
  const exportLink = page.getByRole('link', { name: 'Export CSV' });
  await expect(exportLink).toHaveAttribute('href', /^\/dashboard\/audit\.csv\?.*action=api_key_created/);
  const download = page.waitForEvent('download');
  await exportLink.click();
  const file = await (await download).path();
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
  expect(lines[0]).toBe(CSV_HEADER);
  const mine = lines.filter((l) => l.includes(key));
  expect(mine).toHaveLength(1);
  expect(mine[0]).toContain(`,${email},`);
  expect(mine[0]).toContain(`,api_key_created,${key},test`);
  expect(lines.slice(1).every((l) => l.includes(',api_key_created,'))).toBe(true);
});

test('a filter that matches nothing says so and offers to clear the filters', async ({ page }) => {
  await signIn(page);
  const nobody = `${unique('nobody')}@example.com`;

  await page.goto(`${AUDIT}?actor=${encodeURIComponent(nobody)}`);

  await expect(page.getByText('No events match these filters.')).toBeVisible();
  await expect(eventRows(page)).toHaveCount(0);
  await page.getByRole('main').getByRole('link', { name: 'Clear filters' }).first().click();
  await expect(page).toHaveURL(new RegExp(`${AUDIT}$`));
  await expect(page.getByRole('searchbox', { name: 'Actor email' })).toHaveValue('');
  // This test's own sign-in is there at least.
  await expect(eventRows(page).first()).toBeVisible();
});

test('the audit log needs a signed-in user', async ({ page }) => {
  await page.goto(AUDIT);
  await expect(page).toHaveURL(/\/dashboard\/login$/);
  const csv = await page.request.get('/dashboard/audit.csv', { maxRedirects: 0 });
  expect(csv.status()).toBe(303);
  expect(csv.headers()['location']).toBe('/dashboard/login');
});

for (const scheme of ['light', 'dark'] as const) {
  axeTest.describe(`${scheme} colour scheme`, () => {
    axeTest.use({ colorScheme: scheme });
    for (const [name, query] of [
      ['the log', ''],
      ['a filtered log', '?action=signed_in'],
      ['the empty state', '?actor=nobody-at-all%40example.com'],
    ] as const) {
      axeTest(`axe finds no WCAG 2.2 AA violation on the audit log: ${name} (${scheme})`, async ({
        axePage: page,
        jsEnabled,
      }) => {
        // The stylesheet is the same with JavaScript off: dark is checked once per size.
        axeTest.skip(scheme === 'dark' && !jsEnabled, 'dark is checked with JavaScript on');
        await checkAxe(page, query);
      });
    }
  });
}

async function checkAxe(page: Page, query: string) {
  await signIn(page);
  await page.goto(`${AUDIT}${query}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit log');
  await expectNoAxeViolations(page);
}

test('no horizontal page scrolling on the audit log, down to 360 px', async ({ page }) => {
  await signIn(page);
  const height = page.viewportSize()!.height;
  for (const width of [...new Set([page.viewportSize()!.width, 360])]) {
    await page.setViewportSize({ width, height });
    await page.goto(AUDIT);
    await expect(eventRows(page).first()).toBeVisible();
    const { scrollWidth, regionRight } = await page.evaluate(() => ({
      scrollWidth: document.scrollingElement!.scrollWidth,
      regionRight: Math.round(
        document.querySelector('[aria-label="Audit events"]')!.getBoundingClientRect().right,
      ),
    }));
    expect(scrollWidth, `scrollWidth at ${width} px`).toBeLessThanOrEqual(width);
    expect(regionRight, 'the table scrolls inside its region').toBeLessThanOrEqual(width);
  }
});
