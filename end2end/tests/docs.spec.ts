// The API reference at /docs: the published document, rendered by the Redoc
// bundle the service serves itself, with no inline script and nothing loaded
// from elsewhere.
import { test, expect } from '@playwright/test';
import { baseURL } from '../support/env';

// Redoc's attribution logo is the one thing it asks for from elsewhere; the
// page's policy refuses it, and Redoc then hides it.
const refusedLogo = /cdn\.redoc\.ly\/redoc\/logo/;

test('the API reference renders the published operations @needs-js', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !refusedLogo.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const elsewhere: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(baseURL) && !url.startsWith('data:') && !refusedLogo.test(url)) elsewhere.push(url);
  });

  const response = await page.goto('/docs');

  expect(response?.status()).toBe(200);
  const csp = response!.headers()['content-security-policy'];
  expect(csp).toContain("script-src 'self';");
  expect(csp).toContain("default-src 'none';");
  await expect(page.getByRole('heading', { name: /Proofme API/ }).first()).toBeVisible({ timeout: 15_000 });
  await expect(page.locator('body')).toContainText('/v1/identification/{id}/test-outcome');
  expect(problems).toEqual([]);
  expect(elsewhere).toEqual([]);
});

test('without script, the page points to the document @no-js', async ({ page }) => {
  const response = await page.goto('/docs');

  expect(response?.status()).toBe(200);
  await expect(page.getByRole('link', { name: '/v1/openapi.json' })).toBeVisible();
});
