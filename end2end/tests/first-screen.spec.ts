// What the customer needs is on the first screen, without scrolling: on a
// phone the way to the wallet, right after the request; on a desktop the QR code,
// even for the longest request (nine credentials).
import type { Locator, Page } from '@playwright/test';
import { test, expect } from '../support/fixtures';
import { LANGUAGES, LOCALE, TEXT } from '../support/text';

async function box(locator: Locator) {
  const b = await locator.boundingBox();
  expect(b, 'the element has a box').not.toBeNull();
  return b!;
}

/** The box lies inside the first screen (the viewport, unscrolled). */
async function expectInFirstScreen(page: Page, locator: Locator, what: string) {
  const scrolled = await page.evaluate(() => window.scrollY);
  expect(scrolled, 'the page is not scrolled').toBe(0);
  const b = await box(locator);
  const viewport = page.viewportSize()!;
  expect(b.y, `${what}: top`).toBeGreaterThanOrEqual(0);
  expect(b.y + b.height, `${what}: bottom within ${viewport.height} px`).toBeLessThanOrEqual(viewport.height);
  expect(b.x + b.width, `${what}: right edge`).toBeLessThanOrEqual(viewport.width);
}

for (const language of LANGUAGES) {
  const t = TEXT[language];
  for (const credentials of ['two', 'nine'] as const) {
    for (const mode of ['test', 'live'] as const) {
      const name = `${credentials} credentials, ${mode}, ${language}`;

      test(`on a phone the way to the wallet leads, full width, inside the first screen (${name})`, async ({ page, integrator, isMobile, jsEnabled }) => {
        test.skip(!isMobile, 'a phone');
        const ident = await integrator.create({ credentials, mode, locale: LOCALE[language] });

        await page.goto(ident.path);

        // Where the browser has the Digital Credentials API (the script shows
        // its button), the browser's own wallet chooser leads and the wallet
        // link follows it; elsewhere the wallet link leads.
        const dcApi = jsEnabled && (await page.evaluate(() => 'DigitalCredential' in window));
        const walletLink = page.getByRole('link', { name: t.openWallet, exact: true });
        const deviceWallet = page.getByRole('button', { name: t.useWalletOnDevice });
        const first = dcApi ? deviceWallet : walletLink;
        await expect(first).toBeVisible();
        if (!dcApi) await expect(deviceWallet).toBeHidden();
        const main = await box(page.getByRole('main'));
        for (const [what, button] of [['the first way to the wallet', first], ['the wallet link', walletLink]] as const) {
          await expect(button).toBeVisible();
          await expectInFirstScreen(page, button, what);
          // Full width of the content column.
          expect((await box(button)).width, what).toBeGreaterThanOrEqual(main.width - 2 * 16 - 1);
        }
        // Right after the request summary; the wallet link right after the
        // device button when there is one.
        const b = await box(first);
        const summary = await box(page.getByRole('region', { name: t.whatShared }));
        expect(b.y).toBeGreaterThanOrEqual(summary.y + summary.height);
        expect(b.y - (summary.y + summary.height)).toBeLessThan(40);
        if (dcApi) {
          const link = await box(walletLink);
          expect(link.y).toBeGreaterThanOrEqual(b.y + b.height);
          expect(link.y - (b.y + b.height)).toBeLessThan(24);
        }
        // The QR code, useless on the phone that would scan it, waits.
        await expect(page.getByRole('img', { name: t.qrLabel })).toBeHidden();
        await expect(page.getByText(t.showQr)).toBeVisible();
      });

      test(`on a desktop the QR code leads, inside the first screen (${name})`, async ({ page, integrator, isMobile }) => {
        test.skip(isMobile, 'a desktop');
        expect(page.viewportSize()).toEqual({ width: 1280, height: 900 });
        const ident = await integrator.create({ credentials, mode, locale: LOCALE[language] });

        await page.goto(ident.path);

        const qr = page.getByRole('img', { name: t.qrLabel });
        await expect(qr).toBeVisible();
        await expectInFirstScreen(page, qr, 'the QR code');
        // Beside the request, not under it.
        const q = await box(qr);
        const summary = await box(page.getByRole('region', { name: t.whatShared }));
        expect(q.y).toBeLessThan(summary.y + summary.height);
        expect(q.x).toBeGreaterThan(summary.x + summary.width);
        expect(q.width).toBeGreaterThanOrEqual(150);
        // The same-device link is there, but quiet.
        const here = page.getByRole('link', { name: t.openWalletHere });
        await expect(here).toBeVisible();
        await expectInFirstScreen(page, here, 'the wallet link');
        await expect(page.getByRole('link', { name: t.openWallet, exact: true })).toBeHidden();
        await expect(page.getByText(t.showQr)).toBeHidden();
      });
    }
  }
}

test('a long request is a compact list in two columns, optional ones marked', async ({ page, integrator }) => {
  const ident = await integrator.create({ credentials: 'nine', locale: LOCALE.en });

  await page.goto(ident.path);

  const items = page.getByRole('region', { name: TEXT.en.whatShared }).getByRole('listitem');
  await expect(items).toHaveCount(9);
  const lefts = new Set<number>();
  for (const item of await items.all()) lefts.add(Math.round((await box(item)).x));
  expect(lefts.size, 'two columns').toBe(2);
  await expect(items.filter({ hasText: `(${TEXT.en.optional})` })).toHaveText([
    `${TEXT.en.email} (${TEXT.en.optional})`,
    'Phone number (optional)',
  ]);
});

test('a narrow desktop window gets the phone layout', async ({ page, integrator, isMobile }) => {
  test.skip(isMobile, 'a desktop');
  const ident = await integrator.create({ credentials: 'nine' });
  await page.setViewportSize({ width: 390, height: 844 });

  await page.goto(ident.path);

  const button = page.getByRole('link', { name: TEXT.en.openWallet, exact: true });
  await expect(button).toBeVisible();
  await expectInFirstScreen(page, button, 'the wallet button');
  await expect(page.getByRole('img', { name: TEXT.en.qrLabel })).toBeHidden();
});
