// Fits a small phone and loads fast on one.
import type { Page } from '@playwright/test';
import { test, expect, type Created, type Integrator } from '../support/fixtures';

const states: { name: string; open: (integrator: Integrator) => Promise<string> }[] = [
  { name: 'an open test identification (en)', open: async (i) => (await i.create({ locale: 'en_US' })).path },
  { name: 'an open test identification (nl)', open: async (i) => (await i.create({ locale: 'nl_NL' })).path },
  { name: 'an open live identification', open: async (i) => (await i.create({ mode: 'live' })).path },
  {
    name: 'a verified identification',
    open: async (i) => {
      const c = await i.create();
      await i.testOutcome(c.id, 'verified');
      return c.path;
    },
  },
  {
    name: 'nine credentials (nl)',
    open: async (i) => (await i.create({ locale: 'nl_NL', credentials: 'nine' })).path,
  },
  {
    name: 'a pending identification (nl)',
    open: async (i) => {
      const c = await i.create({ locale: 'nl_NL' });
      await i.testOutcome(c.id, 'pending');
      return c.path;
    },
  },
  { name: 'the cancel confirmation (nl)', open: async (i) => `${(await i.create({ locale: 'nl_NL' })).path}/cancel` },
  {
    name: 'a failed identification (nl)',
    open: async (i) => {
      const c = await i.create({ locale: 'nl_NL' });
      await i.testOutcome(c.id, 'failed');
      return c.path;
    },
  },
  { name: 'the not-found page (nl)', open: async () => '/id_0000000000000000000000unknown?lang=nl' },
  {
    // An order number or URL as the reference: 255 characters, no spaces.
    name: 'a reference of 255 characters without a space',
    open: async (i) => (await i.create({ description: `e2e-${'X'.repeat(251)}` })).path,
  },
];

async function horizontalOverflow(page: Page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
}

for (const state of states) {
  test(`no horizontal scrolling at 360 px: ${state.name}`, async ({ page, integrator }) => {
    const path = await state.open(integrator);
    // Desktop projects check their own width and the phone's.
    const widths = [...new Set([page.viewportSize()!.width, 360])];

    for (const width of widths) {
      await page.setViewportSize({ width, height: page.viewportSize()!.height });
      await page.goto(path);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      const { scrollWidth, clientWidth } = await horizontalOverflow(page);
      expect(scrollWidth, `scrollWidth at a viewport ${width} px wide`).toBeLessThanOrEqual(clientWidth);
    }
  });
}

async function pageWeight(page: Page, path: string) {
  const sizes: Record<string, number> = {};
  const html = await page.request.get(path);
  expect(html.status()).toBe(200);
  sizes[path] = (await html.body()).length;
  await page.goto(path);
  const refs = [
    ...(await page.locator('link[rel~="stylesheet"]').all()),
    ...(await page.locator('link[rel~="icon"]').all()),
    ...(await page.locator('script[src]').all()),
  ];
  for (const ref of refs) {
    const url = (await ref.getAttribute('href')) ?? (await ref.getAttribute('src'));
    expect(url).toBeTruthy();
    const res = await page.request.get(url!);
    expect(res.status(), url!).toBe(200);
    sizes[url!] = (await res.body()).length;
  }
  return sizes;
}

test('the whole open page (HTML, CSS, script, icon, QR) weighs under 50 KB', async ({ page, integrator }) => {
  const ident: Created = await integrator.create({ locale: 'nl_NL' });

  const sizes = await pageWeight(page, ident.path);

  const kinds = Object.keys(sizes).map((u) => u.replace(/\?.*/, ''));
  expect(kinds.some((u) => u.endsWith('.css')), JSON.stringify(sizes)).toBe(true);
  expect(kinds.some((u) => u.endsWith('.js')), JSON.stringify(sizes)).toBe(true);
  expect(kinds.some((u) => /favicon|icon/.test(u)), JSON.stringify(sizes)).toBe(true);
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  test.info().annotations.push({ type: 'page weight', description: `${total} bytes: ${JSON.stringify(sizes)}` });
  expect(total, JSON.stringify(sizes)).toBeLessThan(50 * 1024);
});

test('what the browser itself downloads for the open page stays under 50 KB', async ({ page, integrator }) => {
  const ident = await integrator.create();
  let total = 0;
  const seen: string[] = [];
  page.on('response', async (res) => {
    // The event stream never ends; it is not page weight.
    if (res.url().endsWith('/events')) return;
    const body = await res.body().catch(() => Buffer.alloc(0));
    total += body.length;
    seen.push(`${res.url()} ${body.length}`);
  });

  await page.goto(ident.path, { waitUntil: 'load' });
  // The event stream stays open, so 'networkidle' never comes: give late loads a moment.
  await page.waitForTimeout(1_000);

  expect(total, seen.join('\n')).toBeGreaterThan(0);
  expect(total, seen.join('\n')).toBeLessThan(50 * 1024);
});
