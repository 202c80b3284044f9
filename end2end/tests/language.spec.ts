// Every page has a visible switch between English and Nederlands; the
// customer's pick wins over the identification's locale and stays with them
// through the journey.
import type { Page } from '@playwright/test';
import { test, expect, expectAtShop, type Integrator } from '../support/fixtures';
import { TEXT } from '../support/text';

const pages: { name: string; open: (i: Integrator) => Promise<string>; english: string; dutch: string }[] = [
  {
    name: 'an open identification',
    open: async (i) => (await i.create({ locale: 'en_GB' })).path,
    english: TEXT.en.heading('E2E Shop'),
    dutch: TEXT.nl.heading('E2E Shop'),
  },
  {
    name: 'a pending identification',
    open: async (i) => {
      const c = await i.create({ locale: 'en_GB' });
      await i.testOutcome(c.id, 'pending');
      return c.path;
    },
    english: TEXT.en.heading('E2E Shop'),
    dutch: TEXT.nl.heading('E2E Shop'),
  },
  {
    name: 'the cancel confirmation',
    open: async (i) => `${(await i.create({ locale: 'en_GB' })).path}/cancel`,
    english: TEXT.en.cancelTitle,
    dutch: TEXT.nl.cancelTitle,
  },
  {
    name: 'a failed identification',
    open: async (i) => {
      const c = await i.create({ locale: 'en_GB' });
      await i.testOutcome(c.id, 'failed');
      return c.path;
    },
    english: TEXT.en.finalHeading.failed,
    dutch: TEXT.nl.finalHeading.failed,
  },
  {
    name: 'the not-found page',
    open: async () => '/id_0000000000000000000000unknown',
    english: TEXT.en.notFound,
    dutch: TEXT.nl.notFound,
  },
];

function languageSwitch(page: Page, label: string) {
  return page.getByRole('banner').getByRole('navigation', { name: label });
}

for (const p of pages) {
  test(`${p.name} switches between English and Nederlands`, async ({ page, integrator }) => {
    const path = await p.open(integrator);
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(p.english);
    const english = languageSwitch(page, 'Language');
    await expect(english.getByRole('link')).toHaveText(['English', 'Nederlands']);
    await expect(english.getByRole('link', { name: 'English' })).toHaveAttribute('aria-current', 'true');

    await english.getByRole('link', { name: 'Nederlands' }).click();

    await expect(page.locator('html')).toHaveAttribute('lang', 'nl-NL');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(p.dutch);
    const dutch = languageSwitch(page, 'Taal');
    await expect(dutch.getByRole('link', { name: 'Nederlands' })).toHaveAttribute('aria-current', 'true');
    // The same page, only in another language.
    expect(new URL(page.url()).pathname).toBe(path.replace(/\?.*/, ''));

    await dutch.getByRole('link', { name: 'English' }).click();

    // Back in English, and still British English where the locale said so.
    await expect(page.locator('html')).toHaveAttribute('lang', p.name.startsWith('the not-found') ? 'en-US' : 'en-GB');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(p.english);
  });
}

test('the language picked stays through Check status, Cancel and Keep going', async ({ page, integrator }) => {
  const ident = await integrator.create({ locale: 'en_GB' });
  await page.goto(ident.path);
  await page.getByRole('link', { name: 'Nederlands' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'nl-NL');

  await page.getByRole('link', { name: TEXT.nl.checkStatus }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'nl-NL');
  await page.getByRole('link', { name: TEXT.nl.cancel, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.nl.cancelTitle);
  await page.getByRole('link', { name: TEXT.nl.cancelKeep, exact: true }).click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.nl.heading(integrator.orgName));
  await expect(page.getByRole('region', { name: TEXT.nl.testPanel })).toBeVisible();
});

test('a test outcome chosen after switching language still ends at the shop', async ({ page, integrator }) => {
  const ident = await integrator.create({ locale: 'en_GB' });
  await page.goto(ident.path);
  await page.getByRole('link', { name: 'Nederlands' }).click();

  await page.getByRole('button', { name: TEXT.nl.outcomes.verified, exact: true }).click();

  await expectAtShop(page, ident, 'verified');
});
