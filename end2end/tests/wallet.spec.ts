// The way to the wallet: a QR code for a phone, a deep link on the phone.
import { test, expect, baseURL } from '../support/fixtures';
import { TEXT } from '../support/text';

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
