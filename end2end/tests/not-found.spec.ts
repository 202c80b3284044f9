// A link that leads nowhere says so, in the customer's language, with a 404.
import { test, expect } from '../support/fixtures';
import { TEXT } from '../support/text';

const unknownId = 'id_0000000000000000000000unknown';

const cases = [
  { name: 'in English by default', path: `/${unknownId}`, locale: 'en-US', lang: /^en/, heading: TEXT.en.notFound },
  { name: 'in Dutch by Accept-Language', path: `/${unknownId}`, locale: 'nl-NL', lang: /^nl/, heading: TEXT.nl.notFound },
  { name: 'in Dutch by ?lang=nl', path: `/${unknownId}?lang=nl`, locale: 'en-US', lang: /^nl/, heading: TEXT.nl.notFound },
  { name: 'for a path that is no identification at all', path: '/no/such/page', locale: 'en-US', lang: /^en/, heading: TEXT.en.notFound },
  { name: 'for a path that is no identification, in Dutch', path: '/no/such/page', locale: 'nl-BE', lang: /^nl/, heading: TEXT.nl.notFound },
];

for (const c of cases) {
  test.describe(() => {
    // The browser's language is what it sends as Accept-Language.
    test.use({ locale: c.locale });

  test(`an unknown identification is a 404 page ${c.name}`, async ({ page }) => {
    const response = await page.goto(c.path);

    expect(response?.status()).toBe(404);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    await expect(page.locator('html')).toHaveAttribute('lang', c.lang);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(c.heading);
    await expect(page.getByRole('main')).toBeVisible();
  });
  });
}
