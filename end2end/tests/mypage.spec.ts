// What the customer sees on an open identification, in each language.
import { test, expect } from '../support/fixtures';
import { HTML_LANG, LANGUAGES, LOCALE, TEXT } from '../support/text';

for (const language of LANGUAGES) {
  const t = TEXT[language];

  test(`an open test identification explains the request (${language})`, async ({ page, integrator, isMobile }) => {
    const ident = await integrator.create({ locale: LOCALE[language] });
    const org = integrator.orgName;

    const response = await page.goto(ident.path);

    expect(response?.status()).toBe(200);
    await expect(page.locator('html')).toHaveAttribute('lang', HTML_LANG[language]);
    const banner = page.getByRole('banner');
    await expect(banner).toContainText(org);
    // Test mode is marked in the page header.
    await expect(banner.getByRole('note')).toHaveText(t.testNote);
    await expect(page.getByRole('note')).toHaveCount(1);
    const main = page.getByRole('main');
    await expect(main).toHaveAttribute('data-events-url', `/${ident.id}/events`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.heading(org));
    await expect(main.getByText(t.reference, { exact: true })).toBeVisible();
    await expect(main.getByText(ident.ref, { exact: true })).toBeVisible();

    const shared = page.getByRole('region', { name: t.whatShared });
    const items = shared.getByRole('listitem');
    await expect(items).toHaveCount(2);
    await expect(items.nth(0)).toHaveText(t.olderThan18);
    await expect(items.nth(1)).toContainText(t.email);
    await expect(items.nth(1)).toContainText(t.optional);
    await expect(shared.getByRole('heading', { name: t.why })).toBeVisible();
    await expect(shared.getByText(t.purpose, { exact: true })).toBeVisible();

    const wallet = page.getByRole('region', { name: t.walletHeading });
    const qr = wallet.getByRole('img', { name: t.qrLabel });
    if (isMobile) {
      // The phone's way is the button; the QR code waits behind a disclosure.
      await expect(wallet.getByRole('link', { name: t.openWallet, exact: true })).toBeVisible();
      await expect(qr).toBeHidden();
      await wallet.getByText(t.showQr).click();
      await expect(qr).toBeVisible();
      await expect(wallet.getByRole('link', { name: t.openWalletHere })).toBeHidden();
    } else {
      // The desktop's way is the QR code; the button becomes a quiet link.
      await expect(qr).toBeVisible();
      await expect(wallet.getByRole('link', { name: t.openWalletHere })).toBeVisible();
      await expect(wallet.getByRole('link', { name: t.openWallet, exact: true })).toBeHidden();
      await expect(wallet.getByText(t.showQr)).toBeHidden();
    }
    // Help for someone without a wallet, one tap away.
    await expect(wallet.getByText(t.walletHelp)).toBeHidden();
    await wallet.getByText(t.noWallet).click();
    await expect(wallet.getByText(t.walletHelp)).toBeVisible();

    await expect(page.getByRole('status')).toHaveText(t.waiting);
    await expect(page.getByRole('link', { name: t.checkStatus })).toBeVisible();

    const panel = page.getByRole('region', { name: t.testPanel });
    await expect(panel.getByRole('button')).toHaveText(Object.values(t.outcomes));
    // Cancel is a quiet link to a confirmation, not a button that ends it.
    await expect(page.getByRole('link', { name: t.cancel, exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: t.cancel, exact: true })).toHaveCount(0);
  });

  test(`a live identification has no test panel (${language})`, async ({ page, integrator }) => {
    const ident = await integrator.create({ mode: 'live', locale: LOCALE[language] });

    await page.goto(ident.path);

    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.heading(integrator.orgName));
    await expect(page.getByRole('region', { name: t.walletHeading })).toBeVisible();
    await expect(page.getByRole('note')).toHaveCount(0);
    await expect(page.getByText(t.testNote)).toHaveCount(0);
    await expect(page.getByRole('region', { name: t.testPanel })).toHaveCount(0);
    for (const name of Object.values(t.outcomes)) {
      await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
    }
    await expect(page.getByRole('link', { name: t.cancel, exact: true })).toBeVisible();
  });
}

test.describe('language without a locale on the identification', () => {
  test('?lang=nl speaks Dutch', async ({ page, integrator }) => {
    const ident = await integrator.create();

    await page.goto(`${ident.path}?lang=nl`);

    await expect(page.locator('html')).toHaveAttribute('lang', 'nl-NL');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.nl.heading(integrator.orgName));
    // Check status keeps the language the customer chose.
    await page.getByRole('link', { name: TEXT.nl.checkStatus }).click();
    await expect(page.locator('html')).toHaveAttribute('lang', 'nl-NL');
  });

  test("the identification's locale wins over ?lang and Accept-Language", async ({ page, integrator }) => {
    const ident = await integrator.create({ locale: 'nl_BE' });

    await page.goto(`${ident.path}?lang=en`);

    await expect(page.locator('html')).toHaveAttribute('lang', 'nl-BE');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.nl.heading(integrator.orgName));
  });
});

// The browser's language is what it sends as Accept-Language.
test.describe('a browser set to Flemish Dutch', () => {
  test.use({ locale: 'nl-BE' });

  test('gets MyPage in Flemish Dutch', async ({ page, integrator }) => {
    const ident = await integrator.create();

    await page.goto(ident.path);

    await expect(page.locator('html')).toHaveAttribute('lang', 'nl-BE');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.nl.heading(integrator.orgName));
  });

  test('still gets English when ?lang=en asks for it', async ({ page, integrator }) => {
    const ident = await integrator.create();

    await page.goto(`${ident.path}?lang=en`);

    await expect(page.locator('html')).toHaveAttribute('lang', /^en/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.en.heading(integrator.orgName));
  });
});

test.describe('a browser set to a language MyPage does not speak', () => {
  test.use({ locale: 'fr-FR' });

  test('gets MyPage in English', async ({ page, integrator }) => {
    const ident = await integrator.create();

    await page.goto(ident.path);

    await expect(page.locator('html')).toHaveAttribute('lang', /^en/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.en.heading(integrator.orgName));
  });
});
