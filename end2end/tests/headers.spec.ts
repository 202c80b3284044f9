// The MyPage URL is the secret: it must not leak by referrer, cache or frame,
// and the page runs no script but its own.
import type { Response } from '@playwright/test';
import { test, expect, type Integrator } from '../support/fixtures';

function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name.toLowerCase(), values);
  }
  return map;
}

function expectSecurityHeaders(response: Response | null) {
  expect(response).not.toBeNull();
  const h = response!.headers();
  const csp = h['content-security-policy'];
  expect(csp, 'Content-Security-Policy').toBeTruthy();
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  const d = directives(csp);
  const scriptSrc = d.get('script-src') ?? d.get('default-src');
  expect(scriptSrc, csp).toEqual(["'self'"]);
  expect(d.get('frame-ancestors'), csp).toEqual(["'none'"]);
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['cache-control']).toContain('no-store');
}

const pages: { name: string; open: (i: Integrator) => Promise<string>; status: number }[] = [
  { name: 'an open test identification', open: async (i) => (await i.create()).path, status: 200 },
  { name: 'an open live identification', open: async (i) => (await i.create({ mode: 'live' })).path, status: 200 },
  { name: 'the cancel confirmation', open: async (i) => `${(await i.create()).path}/cancel`, status: 200 },
  {
    name: 'a canceled identification',
    open: async (i) => {
      const c = await i.create();
      await i.testOutcome(c.id, 'canceled');
      return c.path;
    },
    status: 200,
  },
  { name: 'the not-found page', open: async () => '/id_0000000000000000000000unknown', status: 404 },
];

for (const p of pages) {
  test(`security headers on ${p.name}`, async ({ page, integrator }) => {
    const path = await p.open(integrator);

    const response = await page.goto(path);

    expect(response?.status()).toBe(p.status);
    expectSecurityHeaders(response);
  });
}

test('the page and its script run with no CSP violation or script error @needs-js', async ({ page, integrator }) => {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) {
      problems.push(`${m.text()} (${m.location().url})`);
    }
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const ident = await integrator.create();
  const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));

  await page.goto(ident.path);
  await events;
  // The CSP's form-action must allow the redirect to the organisation.
  await page.getByRole('button', { name: 'Verified', exact: true }).click();
  await expect(page.locator('#status')).toHaveText('verified');

  expect(problems).toEqual([]);
});

test('the event stream is not cached and carries the status', async ({ request, integrator }) => {
  const ident = await integrator.create();
  await integrator.testOutcome(ident.id, 'failed');

  // A final identification's stream sends its status once and ends.
  const res = await request.get(`/${ident.id}/events`);

  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toMatch(/^text\/event-stream/);
  const body = await res.text();
  expect(body).toContain('event: status');
  expect(body).toContain('"statusName":"failed"');
});
