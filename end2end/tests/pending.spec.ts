// Once a wallet has fetched the request (pending), the page says "continue in
// your wallet", shows where the customer stands, and the QR code is gone: a
// second scan would only replace the request. Live with JavaScript, and the
// same page on a reload without it.
import type { Page } from '@playwright/test';
import { test, expect, baseURL, type Created } from '../support/fixtures';
import { LANGUAGES, LOCALE, TEXT, type Text } from '../support/text';

/** What a wallet does right after the scan: fetch the request object. */
async function walletFetchesTheRequest(ident: Created) {
  const res = await fetch(`${baseURL}/oid4vp/request/${ident.id}`);
  expect(res.status).toBe(200);
}

async function expectPendingPage(page: Page, t: Text, org: string) {
  const heading = page.getByRole('heading', { name: t.pendingHeading });
  await expect(heading).toBeVisible();
  await expect(page.getByRole('status')).toHaveText(t.pending);
  const steps = page.getByRole('list', { name: t.progress });
  await expect(steps.getByRole('listitem')).toHaveCount(3);
  await expect(steps.locator('[aria-current="step"]')).toBeVisible();
  await expect(steps).toContainText(org);
  // No second scan, and nothing to scan it with.
  await expect(page.getByRole('img', { name: t.qrLabel })).toHaveCount(0);
  await expect(page.getByRole('region', { name: t.walletHeading })).toHaveCount(0);
  await expect(page.getByRole('link', { name: t.openWallet, exact: true })).toHaveCount(0);
  // Near the top: the heading is in the first screen.
  const box = await heading.boundingBox();
  expect(box!.y + box!.height).toBeLessThanOrEqual(page.viewportSize()!.height);
  // A wallet closed by mistake can be opened again.
  const reopen = page.getByRole('link', { name: t.reopenWallet });
  await expect(reopen).toBeVisible();
  expect(await reopen.getAttribute('href')).toMatch(/^openid4vp:\/\//);
}

for (const language of LANGUAGES) {
  const t = TEXT[language];

  test(`a wallet's scan turns the open page into "continue in your wallet" without a reload (${language}) @needs-js`, async ({ page, integrator }) => {
    const ident = await integrator.create({ locale: LOCALE[language], credentials: 'nine' });
    const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));
    await page.goto(ident.path);
    expect((await events).status()).toBe(200);
    await expect(page.getByRole('heading', { name: t.pendingHeading })).toBeHidden();
    await page.evaluate(() => ((window as any).notReloaded = true));

    await walletFetchesTheRequest(ident);

    await expectPendingPage(page, t, integrator.orgName);
    expect(await page.evaluate(() => (window as any).notReloaded)).toBe(true);
    expect((await integrator.get(ident.id)).statusName).toBe('pending');
  });

  test(`a pending identification opened or reloaded shows "continue in your wallet" (${language})`, async ({ page, integrator }) => {
    const ident = await integrator.create({ locale: LOCALE[language], credentials: 'nine' });
    await walletFetchesTheRequest(ident);

    await page.goto(ident.path);

    await expectPendingPage(page, t, integrator.orgName);
    await page.reload();
    await expectPendingPage(page, t, integrator.orgName);
  });
}

test('without JavaScript, "Check status" turns the open page into the pending one @no-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.goto(ident.path);
  await walletFetchesTheRequest(ident);

  await page.getByRole('link', { name: TEXT.en.checkStatus }).click();

  await expectPendingPage(page, TEXT.en, integrator.orgName);
});

test('focus in the wallet panel moves to "continue in your wallet" when it goes @needs-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));
  await page.goto(ident.path);
  await events;
  const help = page.getByText(TEXT.en.noWallet);
  await help.focus();
  await expect(help).toBeFocused();

  await walletFetchesTheRequest(ident);

  await expect(page.getByRole('heading', { name: TEXT.en.pendingHeading })).toBeFocused();
});

test('a pending page still lets a test identification finish, and follows it to the shop @needs-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await walletFetchesTheRequest(ident);
  await page.goto(ident.path);
  await expect(page.getByRole('heading', { name: TEXT.en.pendingHeading })).toBeVisible();

  await integrator.testOutcome(ident.id, 'verified');

  await page.waitForURL(ident.returnUrl);
  await expect(page.locator('#status')).toHaveText('verified');
});
