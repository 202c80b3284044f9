// MyPage follows changes it did not make: a wallet connecting, or the
// identification ending elsewhere. With JavaScript by Server-Sent Events; without
// it, by the "Check status" link.
import { test, expect, expectAtShop } from '../support/fixtures';
import { TEXT } from '../support/text';

const t = TEXT.en;

test('"Check status" shows a change made through the API', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.goto(ident.path);
  await expect(page.getByRole('status')).toHaveText(t.waiting);

  await integrator.testOutcome(ident.id, 'pending');
  const check = page.getByRole('link', { name: t.checkStatus });
  await expect(check).toHaveAttribute('href', ident.path);
  await check.click();

  await expect(page).toHaveURL(ident.myPageUrl);
  await expect(page.getByRole('status')).toHaveText(t.pending);
  // The wallet has the request: continue there; no second scan.
  await expect(page.getByRole('heading', { name: t.pendingHeading })).toBeVisible();
  await expect(page.getByRole('region', { name: t.walletHeading })).toHaveCount(0);
  await expect(page.locator('.qr')).toHaveCount(0);
  // Still open: the customer can go on.
  await expect(page.getByRole('button', { name: 'Verified', exact: true })).toBeVisible();
});

test('without JavaScript, "Check status" shows the result once it is final @no-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.goto(ident.path);

  await integrator.testOutcome(ident.id, 'verified');
  await page.getByRole('link', { name: t.checkStatus }).click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.finalHeading.verified);
  await page.getByRole('link', { name: t.returnTo(integrator.orgName) }).click();
  await expectAtShop(page, ident, 'verified');
});

test('a page left open shows the wallet connecting without a reload @needs-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));
  await page.goto(ident.path);
  expect((await events).status()).toBe(200);

  await page.evaluate(() => ((window as any).notReloaded = true));

  await integrator.testOutcome(ident.id, 'pending');

  await expect(page.getByRole('status')).toHaveText(t.pending, { timeout: 5_000 });
  await expect(page.getByRole('heading', { name: t.pendingHeading })).toBeVisible();
  await expect(page.getByRole('img', { name: t.qrLabel })).toHaveCount(0);
  await expect(page).toHaveURL(ident.myPageUrl);
  expect(await page.evaluate(() => (window as any).notReloaded)).toBe(true);
});

for (const status of ['verified', 'failed', 'revoked'] as const) {
  test(`a page left open follows the identification to the shop when it becomes ${status} elsewhere @needs-js`, async ({ page, integrator }) => {
    const ident = await integrator.create();
    const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));
    await page.goto(ident.path);
    expect((await events).status()).toBe(200);

    await integrator.finish(ident.id, status);

    // Followed without a reload; how fast is measured by the benchmarks.
    await page.waitForURL(ident.returnUrl);
    await expectAtShop(page, ident, status);
  });
}

test('a page opened with JavaScript on a final identification stays put @needs-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await integrator.testOutcome(ident.id, 'expired');

  await page.goto(ident.path);
  // Once nothing is loading any more, the script has done all it would do.
  await page.waitForLoadState('networkidle');

  await expect(page).toHaveURL(ident.myPageUrl);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.finalHeading.expired);
});
