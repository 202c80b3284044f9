// Every state of MyPage as the customer sees it, at desktop and phone size, in
// light and dark: attached to the report and written to
// test-results/screenshots/<state>-<size>[-dark][-full].png so they can be
// named and compared. `<size>` is the project's: desktop (1280×900) or phone.
// SCREENSHOT_PREFIX (say `before-`) prefixes every name; with it set, only the
// states the page has always had are taken, in light only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { test, expect, type Integrator } from '../support/fixtures';
import { FINAL_STATUSES, LOCALE, TEXT } from '../support/text';

const prefix = process.env.SCREENSHOT_PREFIX ?? '';
const before = prefix !== '';
const folder = path.join(__dirname, '..', 'test-results', 'screenshots');

type State = {
  name: string;
  /** Only exists since the phone-first redesign. */
  isNew?: boolean;
  open: (i: Integrator) => Promise<string>;
  /** What to do on the page before the picture. */
  act?: (page: Page) => Promise<void>;
};

const t = TEXT.en;

const states: State[] = [
  { name: 'open-test', open: async (i) => (await i.create({ locale: LOCALE.en })).path },
  { name: 'open-test-nl', isNew: true, open: async (i) => (await i.create({ locale: LOCALE.nl })).path },
  { name: 'open-live', open: async (i) => (await i.create({ mode: 'live', locale: LOCALE.en })).path },
  { name: 'open-nine', open: async (i) => (await i.create({ credentials: 'nine', locale: LOCALE.en })).path },
  {
    name: 'open-nine-live',
    open: async (i) => (await i.create({ credentials: 'nine', mode: 'live', locale: LOCALE.en })).path,
  },
  {
    name: 'qr-shown',
    isNew: true,
    open: async (i) => (await i.create({ locale: LOCALE.en })).path,
    act: async (page) => {
      const summary = page.getByText(t.showQr);
      if (await summary.isVisible()) await summary.click();
    },
  },
  {
    name: 'pending',
    open: async (i) => {
      const c = await i.create({ locale: LOCALE.en });
      await i.testOutcome(c.id, 'pending');
      return c.path;
    },
  },
  {
    name: 'cancel-confirm',
    isNew: true,
    open: async (i) => `${(await i.create({ locale: LOCALE.en })).path}/cancel`,
  },
  ...FINAL_STATUSES.map((status) => ({
    name: status,
    open: async (i: Integrator) => {
      const c = await i.create({ locale: LOCALE.en });
      await i.finish(c.id, status);
      return c.path;
    },
  })),
  { name: 'not-found', open: async () => '/id_0000000000000000000000unknown' },
];

async function shoot(page: Page, testInfo: TestInfo, name: string) {
  fs.mkdirSync(folder, { recursive: true });
  for (const fullPage of [false, true]) {
    const file = `${name}${fullPage ? '-full' : ''}.png`;
    const body = await page.screenshot({ fullPage, animations: 'disabled', caret: 'hide' });
    fs.writeFileSync(path.join(folder, file), body);
    await testInfo.attach(file, { body, contentType: 'image/png' });
  }
}

for (const state of states) {
  if (before && state.isNew) continue;
  test(`screenshot: ${state.name}`, async ({ page, integrator, jsEnabled }, testInfo) => {
    test.skip(!jsEnabled, 'one set of pictures per size');
    const size = testInfo.project.name.startsWith('phone') ? 'phone' : 'desktop';
    const at = await state.open(integrator);

    for (const scheme of before ? (['light'] as const) : (['light', 'dark'] as const)) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(at);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      if (state.act) await state.act(page);
      await shoot(page, testInfo, `${prefix}${state.name}-${size}${scheme === 'dark' ? '-dark' : ''}`);
    }
  });
}
