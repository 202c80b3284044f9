// What every dashboard spec shares: signing in, axe with the same rules,
// and a page for axe that runs scripts even where the test's own does not.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import * as crypto from 'node:crypto';
import { readFixtures } from './env';
import { test, expect } from './fixtures';

export const SIGN_IN_HEADING = 'Sign in to your dashboard';
/** The rules every dashboard page is held to: WCAG 2.2 AA. */
export const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** A word found in no other test's data. */
export function unique(prefix = 'dash'): string {
  return `${prefix}-${crypto.randomBytes(6).toString('hex')}`;
}

/**
 * Signs in through the form, from wherever the page is, as the shared shop's
 * user unless told whom; lands on the overview.
 */
export async function signIn(page: Page, who?: { email: string; password: string }) {
  const { email, password } = who ?? readFixtures().dashboard;
  if (!page.url().endsWith('/dashboard/login')) await page.goto('/dashboard/login');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(SIGN_IN_HEADING);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/dashboard\/overview$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Overview');
}

export async function expectNoAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const summary = results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
  }));
  expect(summary).toEqual([]);
}

// axe runs as a script in the page, and a page with JavaScript off never runs
// it. So in the JavaScript-off projects axe looks at the same page in a twin
// context that allows scripts but is served none of the page's own (as the
// accessibility spec of MyPage does).
export const axeTest = test.extend<{ axePage: Page }>({
  axePage: async (
    { page, browser, jsEnabled, viewport, isMobile, hasTouch, deviceScaleFactor, locale, baseURL, userAgent, colorScheme },
    use,
  ) => {
    if (jsEnabled) {
      await use(page);
      return;
    }
    const context = await browser.newContext({
      viewport, isMobile, hasTouch, deviceScaleFactor, locale, baseURL, userAgent, colorScheme,
      javaScriptEnabled: true,
    });
    await context.route(/\.js(\?.*)?$/, (route) => route.abort('blockedbyclient'));
    await use(await context.newPage());
    await context.close();
  },
});
