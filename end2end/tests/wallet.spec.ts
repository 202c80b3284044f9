// The way to the wallet: a QR code for a phone, a deep link on the phone.
import { test, expect, expectAtShop, baseURL } from '../support/fixtures';
import { TEXT } from '../support/text';
import { execFileSync } from 'node:child_process';
import type { Page } from '@playwright/test';
import { binary } from '../support/env';

/** The wallet link as this screen shows it: the phone's button, the desktop's quiet link. */
function walletLink(page: Page, isMobile: boolean) {
  return isMobile
    ? page.getByRole('link', { name: TEXT.en.openWallet, exact: true })
    : page.getByRole('link', { name: TEXT.en.openWalletHere });
}

test('the QR code is an inline SVG and the wallet link is an OpenID4VP request by reference', async ({ page, integrator, isMobile }) => {
  const ident = await integrator.create();
  await page.goto(ident.path);
  // On a phone the QR code is one tap away.
  if (isMobile) await page.getByText(TEXT.en.showQr).click();

  const qr = page.getByRole('img', { name: TEXT.en.qrLabel });
  await expect(qr).toBeVisible();
  const svg = qr.locator('svg');
  await expect(svg).toHaveCount(1);
  await expect(svg).toBeVisible();
  // Large enough to scan from a screen, and square.
  const box = await svg.boundingBox();
  expect(box).not.toBeNull();
  expect(box!.width).toBeGreaterThanOrEqual(150);
  expect(Math.abs(box!.width - box!.height)).toBeLessThan(2);

  const link = walletLink(page, isMobile);
  await expect(link).toBeVisible();
  const href = (await link.getAttribute('href')) ?? '';
  expect(href).toMatch(/^openid4vp:\/\/\?client_id=[^&]+&/);
  const params = new URL(href).searchParams;
  expect(params.get('client_id')).toBeTruthy();
  expect(params.get('request_uri')).toBe(`${baseURL}/oid4vp/request/${ident.id}`);
});

test('each identification gets its own QR code', async ({ page, integrator, isMobile }) => {
  const a = await integrator.create();
  const b = await integrator.create();
  const qrOf = async (path: string) => {
    await page.goto(path);
    if (isMobile) await page.getByText(TEXT.en.showQr).click();
    return page.getByRole('img', { name: TEXT.en.qrLabel }).innerHTML();
  };

  const first = await qrOf(a.path);
  const second = await qrOf(b.path);

  expect(first).toContain('<svg');
  expect(first).not.toBe(second);
});

// The real protocol: `proofme wallet present` plays the customer's phone. The
// desktop page shows the wallet connecting and then follows the identification
// to the shop by itself.
function presentWithWallet(link: string, ...args: string[]): { status: number; redirectUri?: string } {
  const out = execFileSync(binary, ['wallet', 'present', link, ...args], {
    env: { ...process.env, RUST_LOG: 'warn' },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim());
}

test('a wallet on another device completes the identification and the desktop page follows @needs-js', async ({ page, integrator, isMobile }) => {
  const ident = await integrator.create();
  const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));
  await page.goto(ident.path);
  expect((await events).status()).toBe(200);
  const link = (await walletLink(page, isMobile).getAttribute('href')) ?? '';

  const answer = presentWithWallet(link);

  expect(answer.status).toBe(200);
  await expectAtShop(page, ident, 'verified');
});

test('on the same device the wallet sends the customer back through the verifier to the shop', async ({ page, integrator }) => {
  const ident = await integrator.create();

  const answer = presentWithWallet(ident.myPageUrl);
  expect(answer.redirectUri).toContain(`/${ident.id}/done?response_code=`);
  await page.goto(answer.redirectUri!);

  await expectAtShop(page, ident, 'verified');
});
