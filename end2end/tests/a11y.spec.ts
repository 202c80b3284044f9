// WCAG 2.2 AA as axe can check it, on every state of every page, in both languages.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test as base, expect, type Integrator } from '../support/fixtures';
import { FINAL_STATUSES, LANGUAGES, LOCALE, TEXT, type Language } from '../support/text';

// axe runs as a script in the page, and a page with JavaScript off never runs
// it (its timers never fire). So in the JavaScript-off projects axe looks at the
// same page in a twin context that allows scripts but is served none of the
// page's own: the document is exactly what a browser without JavaScript shows.
const test = base.extend<{ axePage: Page }>({
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

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

type State = {
  name: string;
  open: (i: Integrator, language: Language) => Promise<string>;
  /** What the customer does on the page before it is checked. */
  act?: (page: Page, language: Language) => Promise<void>;
  /** A state only the script brings about. */
  needsJs?: boolean;
};

const states: State[] = [
  { name: 'open test identification', open: async (i, l) => (await i.create({ locale: LOCALE[l] })).path },
  { name: 'open live identification', open: async (i, l) => (await i.create({ mode: 'live', locale: LOCALE[l] })).path },
  {
    name: 'open identification with nine credentials',
    open: async (i, l) => (await i.create({ locale: LOCALE[l], credentials: 'nine' })).path,
  },
  {
    name: 'open identification with the QR code and the wallet help open',
    open: async (i, l) => (await i.create({ locale: LOCALE[l] })).path,
    act: async (page, l) => {
      const showQr = page.getByText(TEXT[l].showQr);
      if (await showQr.isVisible()) await showQr.click();
      await page.getByText(TEXT[l].noWallet).click();
      await expect(page.getByText(TEXT[l].walletHelp)).toBeVisible();
      await expect(page.getByRole('img', { name: TEXT[l].qrLabel })).toBeVisible();
    },
  },
  {
    name: 'open page turned pending by the status stream',
    needsJs: true,
    open: async (i, l) => (await i.create({ locale: LOCALE[l] })).path,
    act: async (page, l) => {
      // A wallet fetches the request; the stream (which starts with the
      // current status, so no change can be missed) tells the page.
      const url = new URL(page.url());
      expect((await fetch(`${url.origin}/oid4vp/request${url.pathname}`)).status).toBe(200);
      await expect(page.getByRole('heading', { name: TEXT[l].pendingHeading })).toBeVisible();
    },
  },
  {
    name: 'cancel confirmation',
    open: async (i, l) => `${(await i.create({ locale: LOCALE[l] })).path}/cancel`,
  },
  {
    name: 'pending test identification',
    open: async (i, l) => {
      const c = await i.create({ locale: LOCALE[l] });
      await i.testOutcome(c.id, 'pending');
      return c.path;
    },
  },
  ...FINAL_STATUSES.map((status) => ({
    name: `${status} identification`,
    open: async (i: Integrator, l: Language) => {
      const c = await i.create({ locale: LOCALE[l] });
      await i.finish(c.id, status);
      return c.path;
    },
  })),
  { name: 'not-found page', open: async (_i, l) => `/id_0000000000000000000000unknown?lang=${l}` },
];

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} colour scheme`, () => {
    test.use({ colorScheme: scheme });

    for (const language of LANGUAGES) {
      for (const state of states) {
        const tags = state.needsJs ? ' @needs-js' : '';
        test(`axe finds no WCAG 2.2 AA violation: ${state.name} (${language}, ${scheme})${tags}`, async ({ axePage: page, integrator, jsEnabled }) => {
          // The stylesheet is the same with JavaScript off: dark is checked once per size.
          test.skip(scheme === 'dark' && !jsEnabled, 'dark is checked with JavaScript on');
          const path = await state.open(integrator, language);
          await page.goto(path);
          await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
          if (state.name.startsWith('not-found')) {
            await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT[language].notFound);
          }
          if (state.act) await state.act(page, language);

          const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();

          const summary = results.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
          }));
          expect(summary).toEqual([]);
        });
      }
    }
  });
}
