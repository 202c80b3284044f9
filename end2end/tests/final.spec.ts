// A finished identification says how it ended and offers the way back.
import { test, expect, expectAtShop } from '../support/fixtures';
import { FINAL_STATUSES, HTML_LANG, LANGUAGES, LOCALE, TEXT } from '../support/text';

for (const language of LANGUAGES) {
  const t = TEXT[language];

  for (const status of FINAL_STATUSES) {
    test(`a ${status} identification shows "${t.finalHeading[status]}" and returns to the shop (${language})`, async ({ page, integrator }) => {
      const ident = await integrator.create({ locale: LOCALE[language] });
      await integrator.finish(ident.id, status);

      const response = await page.goto(ident.path);

      expect(response?.status()).toBe(200);
      await expect(page.locator('html')).toHaveAttribute('lang', HTML_LANG[language]);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.finalHeading[status]);
      const result = page.getByRole('status');
      await expect(result).toBeVisible();
      await expect(result).not.toBeEmpty();
      if (status === 'revoked') await expect(result).toContainText(integrator.orgName);
      // Which order it was, and what to do now.
      const main = page.getByRole('main');
      await expect(main.getByText(t.reference, { exact: true })).toBeVisible();
      await expect(main.getByText(ident.ref, { exact: true })).toBeVisible();
      const next = main.getByText(t.nextStep(integrator.orgName));
      if (status === 'verified') await expect(next).toHaveCount(0);
      else await expect(next).toBeVisible();
      // Nothing left to do on the page but go back.
      await expect(page.getByRole('img', { name: t.qrLabel })).toHaveCount(0);
      await expect(page.getByRole('link', { name: t.openWallet })).toHaveCount(0);
      await expect(page.getByRole('button')).toHaveCount(0);

      const back = page.getByRole('link', { name: t.returnTo(integrator.orgName) });
      await expect(back).toHaveAttribute('href', ident.returnUrl);
      await back.click();

      await expectAtShop(page, ident, status);
    });
  }
}

test('a live identification revoked by the organisation says it was withdrawn', async ({ page, integrator }) => {
  const ident = await integrator.create({ mode: 'live', locale: 'en_US' });
  await integrator.revoke(ident.id);

  await page.goto(ident.path);

  await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.en.finalHeading.revoked);
  await page.getByRole('link', { name: TEXT.en.returnTo(integrator.orgName) }).click();
  await expectAtShop(page, ident, 'revoked');
});
