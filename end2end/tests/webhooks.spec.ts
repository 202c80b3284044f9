// The organisation hears about the end of a MyPage journey exactly once.
import { test, expect, expectAtShop } from '../support/fixtures';

test('a completed MyPage journey produces exactly one delivered, signed webhook', async ({ page, integrator }) => {
  const ident = await integrator.create({ webhook: true });
  await page.goto(ident.path);

  await page.getByRole('button', { name: 'Verified', exact: true }).click();
  await expectAtShop(page, ident, 'verified');

  await expect.poll(async () => (await integrator.webhooks(ident.id)).length, { timeout: 10_000 }).toBe(1);
  // A second message for it, written with the first, would have gone out
  // before a later one does. (That a delivered message is never retried is
  // shown with a clock moved past every retry, in the API tests.)
  await integrator.webhookRoundTrip();
  const received = await integrator.webhooks(ident.id);
  expect(received).toHaveLength(1);
  expect(JSON.parse(received[0].body)).toEqual({ id: ident.id });
  expect(received[0].headers['content-type']).toMatch(/^application\/json/);
  expect(received[0].headers['webhook-id']).toBeTruthy();
  expect(received[0].signatureValid).toBe(true);
});

test('opening MyPage sends no webhook', async ({ page, integrator }) => {
  const ident = await integrator.create({ webhook: true });

  await page.goto(ident.path);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  // A webhook for the opening would have gone out before a later one does.
  await integrator.webhookRoundTrip();

  expect(await integrator.webhooks(ident.id)).toEqual([]);
});
