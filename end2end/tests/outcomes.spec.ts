// The customer ends a test identification on MyPage and lands at the shop,
// which already reads the final status through the API.
import { test, expect, expectAtShop } from '../support/fixtures';
import { LANGUAGES, LOCALE, OUTCOMES, TEXT } from '../support/text';

for (const language of LANGUAGES) {
  const t = TEXT[language];

  for (const outcome of OUTCOMES) {
    test(`choosing "${t.outcomes[outcome]}" ends at the shop as ${outcome} (${language})`, async ({ page, integrator, jsEnabled }) => {
      const ident = await integrator.create({ locale: LOCALE[language] });
      await page.goto(ident.path);
      const action = `${new URL(ident.myPageUrl).origin}/${ident.id}/test-outcome`;
      const sent = page.waitForRequest((r) => r.method() === 'POST');
      // With JavaScript on, the event stream may announce the end and start the
      // same trip to the shop first; the browser then drops the 303 unseen.
      const answered = jsEnabled ? null : page.waitForResponse((r) => r.request().method() === 'POST');

      await page
        .getByRole('region', { name: t.testPanel })
        .getByRole('button', { name: t.outcomes[outcome], exact: true })
        .click();

      // A plain form post, answered with 303 See Other to the redirectUrl.
      const request = await sent;
      expect(request.url()).toBe(action);
      expect(request.postData()).toBe(`outcome=${outcome}`);
      if (answered) {
        const answer = await answered;
        expect(answer.status()).toBe(303);
        expect(answer.headers()['location']).toBe(ident.returnUrl);
      }
      await expectAtShop(page, ident, outcome);
      expect((await integrator.get(ident.id)).statusName).toBe(outcome);
    });
  }

  test(`"${t.cancel}" asks first and changes nothing until "${t.cancelYes}" (${language})`, async ({ page, integrator }) => {
    const ident = await integrator.create({ locale: LOCALE[language] });
    await page.goto(ident.path);

    await page.getByRole('link', { name: t.cancel, exact: true }).click();

    await expect(page).toHaveURL(`${ident.myPageUrl}/cancel`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.cancelTitle);
    await expect(page.getByRole('main')).toContainText(ident.ref);
    expect((await integrator.get(ident.id)).statusName).toBe('open');

    await page.getByRole('button', { name: t.cancelYes, exact: true }).click();

    await expectAtShop(page, ident, 'canceled');
  });

  test(`"${t.cancelKeep}" goes back to the page with nothing changed (${language})`, async ({ page, integrator }) => {
    const ident = await integrator.create({ locale: LOCALE[language] });
    await page.goto(ident.path);
    await page.getByRole('link', { name: t.cancel, exact: true }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.cancelTitle);

    await page.getByRole('link', { name: t.cancelKeep, exact: true }).click();

    await expect(page).toHaveURL(ident.myPageUrl);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t.heading(integrator.orgName));
    await expect(page.getByRole('status')).toHaveText(t.waiting);
    expect((await integrator.get(ident.id)).statusName).toBe('open');
  });
}

test('a live identification can be canceled too', async ({ page, integrator }) => {
  const ident = await integrator.create({ mode: 'live' });
  await page.goto(ident.path);

  await page.getByRole('link', { name: 'Cancel', exact: true }).click();
  await page.getByRole('button', { name: 'Yes, cancel', exact: true }).click();

  await expectAtShop(page, ident, 'canceled');
});

test('a confirmation left open follows the identification to the shop when it ends elsewhere @needs-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));
  await page.goto(`${ident.path}/cancel`);
  expect((await events).status()).toBe(200);

  await integrator.testOutcome(ident.id, 'verified');

  await expectAtShop(page, ident, 'verified');
});

test('confirming a cancel after the identification ended elsewhere changes nothing @no-js', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.goto(`${ident.path}/cancel`);
  await integrator.testOutcome(ident.id, 'verified');

  await page.getByRole('button', { name: 'Yes, cancel', exact: true }).click();

  // A final status never changes; the customer is simply sent back.
  await expectAtShop(page, ident, 'verified');
});

test('a keyboard user can reach and press an outcome', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.goto(ident.path);
  const verified = page.getByRole('button', { name: 'Verified', exact: true });

  // Tab through the page from the top until the button has focus.
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    if (await verified.evaluate((el) => el === document.activeElement).catch(() => false)) break;
  }
  await expect(verified).toBeFocused();
  await page.keyboard.press('Enter');

  await expectAtShop(page, ident, 'verified');
});

test('going back to MyPage after the outcome shows the result, not the choice again', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.goto(ident.path);
  await page.getByRole('button', { name: 'Failed', exact: true }).click();
  await expectAtShop(page, ident, 'failed');

  // Cache-Control: no-store, so Back asks the server again.
  await page.goBack();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText(TEXT.en.finalHeading.failed);
  await expect(page.getByRole('button', { name: 'Verified', exact: true })).toHaveCount(0);
});

test('a second tab that chooses later cannot change the outcome @no-js', async ({ page, context, integrator }) => {
  const ident = await integrator.create();
  const other = await context.newPage();
  await page.goto(ident.path);
  await other.goto(ident.path);

  await page.getByRole('button', { name: 'Failed', exact: true }).click();
  await expectAtShop(page, ident, 'failed');
  await other.getByRole('button', { name: 'Verified', exact: true }).click();

  // A final status never changes; the late customer is simply sent back too.
  await expectAtShop(other, ident, 'failed');
  expect((await integrator.get(ident.id)).statusName).toBe('failed');
});
