// The way to the wallet: a QR code for a phone, a deep link on the phone.
import { test, expect, expectAtShop, baseURL } from '../support/fixtures';
import { TEXT } from '../support/text';
import { execFileSync } from 'node:child_process';
import { binary } from '../support/env';

test('the QR code is an inline SVG and the wallet link is an OpenID4VP request by reference', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.goto(ident.path);

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

  const link = page.getByRole('link', { name: TEXT.en.openWallet });
  const href = (await link.getAttribute('href')) ?? '';
  expect(href).toMatch(/^openid4vp:\/\/\?client_id=[^&]+&/);
  const params = new URL(href).searchParams;
  expect(params.get('client_id')).toBeTruthy();
  expect(params.get('request_uri')).toBe(`${baseURL}/oid4vp/request/${ident.id}`);
});

test('each identification gets its own QR code', async ({ page, integrator }) => {
  const a = await integrator.create();
  const b = await integrator.create();
  const qrOf = async (path: string) => {
    await page.goto(path);
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

test('a wallet on another device completes the identification and the desktop page follows @needs-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));
  await page.goto(ident.path);
  expect((await events).status()).toBe(200);
  const link = (await page.getByRole('link', { name: TEXT.en.openWallet }).getAttribute('href')) ?? '';

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
