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

test('the not-found page says who we are and offers the language switch', async ({ page }) => {
  await page.goto(`/${unknownId}`);

  await expect(page.getByRole('main')).toContainText(TEXT.en.notFoundText);
  await expect(page.getByRole('contentinfo')).toContainText('Proofme');
  await expect(page.getByRole('navigation', { name: 'Language' }).getByRole('link')).toHaveText(['English', 'Nederlands']);
});

test('the not-found page offers a way back where there is one @needs-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.goto(ident.path);
  // A mistyped link, followed from the page the customer was on.
  await page.goto(`/${unknownId}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.en.notFound);

  await page.getByRole('button', { name: 'Go back' }).click();

  await expect(page).toHaveURL(ident.myPageUrl);
});

test('a not-found page opened on its own shows no Go back that leads nowhere', async ({ page }) => {
  await page.goto(`/${unknownId}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.en.notFound);

  await expect(page.getByRole('button', { name: 'Go back' })).toHaveCount(0);
});
