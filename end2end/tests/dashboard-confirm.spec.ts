// The dashboard asks before what cannot be undone (revoking or erasing an
// identification, revoking an API key, rotating the webhook secret), tells
// errors apart from successes, gives a refused form back as typed, and
// offers "Copy" beside a secret where JavaScript runs.
//
// Every test runs in all four projects: JavaScript on and off, 1280 px and
// 360 px wide. Each signs in itself and makes what it changes (its own
// identifications and keys), so tests run in any order and in parallel; the
// one shared thing, the organisation's webhook secret, is rotated by one
// project only (see below).
import type { Page } from '@playwright/test';
import { baseURL } from '../support/env';
import { test, expect } from '../support/fixtures';
import { expectNoAxeViolations, signIn, unique as uniqueWord } from '../support/dashboard';

/** A word found in no other test's descriptions. */
function unique(): string {
  return uniqueWord('confirm');
}

/** The value the detail page shows for one field. */
function field(page: Page, name: string) {
  return page.locator('dl.fields dt', { hasText: new RegExp(`^${name}$`) }).locator('xpath=following-sibling::dd[1]');
}

/** An identification id as the dashboard shortens it. */
function short(id: string): string {
  return `${id.slice(0, 7)}…${id.slice(-4)}`;
}

/**
 * The question page, checked where it stands: axe finds nothing (axe is a
 * script, so only where scripts run: the same HTML is served without), and
 * nothing reaches past the screen's edge.
 */
async function checkQuestion(page: Page, jsEnabled: boolean, heading: string) {
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
  await expect(page.getByText('cannot be undone')).toBeVisible();
  const width = page.viewportSize()!.width;
  const scrollWidth = await page.evaluate(() => document.scrollingElement!.scrollWidth);
  expect(scrollWidth).toBeLessThanOrEqual(width);
  if (jsEnabled) await expectNoAxeViolations(page);
}

/** The computed colours of the first element `selector` matches. */
async function colours(page: Page, selector: string) {
  return page.locator(selector).first().evaluate((el) => {
    const s = getComputedStyle(el);
    return { color: s.color, background: s.backgroundColor, edge: s.borderLeftColor, edgeWidth: s.borderLeftWidth };
  });
}

/** `rgb(r, g, b)` as numbers. */
function rgb(css: string): [number, number, number] {
  const [r, g, b] = css.match(/\d+/g)!.map(Number);
  return [r, g, b];
}

const isRed = (css: string) => {
  const [r, g, b] = rgb(css);
  return r > g + 60 && r > b + 60;
};
const isGreen = (css: string) => {
  const [r, g, b] = rgb(css);
  return g > r && g > b;
};

test('revoking an identification asks first; asking and keeping it change nothing', async ({ page, integrator, jsEnabled }) => {
  const c = await integrator.create({ description: unique() });
  await signIn(page);
  await page.goto(`/dashboard/identifications/${c.id}`);

  // The page offers a link to the question, not a button that revokes.
  await expect(page.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Revoke', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/identifications/${c.id}/revoke$`));
  await checkQuestion(page, jsEnabled, 'Revoke identification');
  await expect(page.locator('main')).toContainText(`Revoke “${c.description}” (${short(c.id)})?`);
  await page.reload();
  expect((await integrator.get(c.id)).statusName).toBe('open');

  // "Keep it": back, nothing changed.
  await page.getByRole('link', { name: 'Keep it' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/identifications/${c.id}$`));
  await expect(field(page, 'Status')).toHaveText('Open (0)');

  // Through the question again, and this time yes.
  await page.getByRole('link', { name: 'Revoke', exact: true }).click();
  await page.getByRole('button', { name: 'Yes, revoke it' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/identifications/${c.id}$`));
  await expect(page.getByRole('status')).toHaveText('The identification is revoked.');
  await expect(field(page, 'Status')).toHaveText('Revoked (6)');
  await expect(page.getByRole('link', { name: 'Revoke', exact: true })).toHaveCount(0);
  expect((await integrator.get(c.id)).statusName).toBe('revoked');

  // Nothing left to ask: the page says so, without the button.
  const again = await page.goto(`/dashboard/identifications/${c.id}/revoke`);
  expect(again?.status()).toBe(409);
  await expect(page.getByRole('status')).toContainText('is revoked');
  await expect(page.getByRole('button', { name: 'Yes, revoke it' })).toHaveCount(0);
});

test('erasing shared data asks first; asking and keeping it change nothing', async ({ page, integrator, jsEnabled }) => {
  const c = await integrator.create({ description: unique() });
  await integrator.testOutcome(c.id, 'verified');
  await signIn(page);
  await page.goto(`/dashboard/identifications/${c.id}`);

  await expect(page.getByRole('button', { name: 'Erase data' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Erase data' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/identifications/${c.id}/erase$`));
  await checkQuestion(page, jsEnabled, 'Erase shared data');
  await expect(page.locator('main')).toContainText(`Erase the shared data of “${c.description}” (${short(c.id)})?`);
  expect(await integrator.data(c.id)).not.toBeNull();

  await page.getByRole('link', { name: 'Keep the data' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/identifications/${c.id}$`));
  expect(await integrator.data(c.id)).not.toBeNull();

  await page.getByRole('link', { name: 'Erase data' }).click();
  await page.getByRole('button', { name: 'Yes, erase the data' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/identifications/${c.id}$`));
  await expect(page.getByRole('status')).toHaveText('The shared data is erased.');
  await expect(page.getByText('No shared data is held.')).toBeVisible();
  expect(await integrator.data(c.id)).toBeNull();

  const again = await page.goto(`/dashboard/identifications/${c.id}/erase`);
  expect(again?.status()).toBe(409);
  await expect(page.getByRole('button', { name: 'Yes, erase the data' })).toHaveCount(0);
});

test('an identification of no one we know has no question, only a 404', async ({ page }) => {
  await signIn(page);
  for (const what of ['revoke', 'erase']) {
    const res = await page.goto(`/dashboard/identifications/id_0000000000000000000000unknown/${what}`);
    expect(res?.status()).toBe(404);
    await expect(page.getByRole('alert')).toHaveText('There is no such identification in your organisation.');
    await expect(page.locator('form button.danger')).toHaveCount(0);
  }
});

/** Creates a test key on the keys page; its secret, as the page shows it. */
async function createKey(page: Page): Promise<string> {
  await page.goto('/dashboard/keys');
  await page.getByRole('combobox', { name: 'Mode' }).selectOption('test');
  await page.getByRole('button', { name: 'Create API key' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Copy this key now: it is shown only once' })).toBeVisible();
  return (await page.locator('.once code.secret').textContent())!.trim();
}

/** What the API answers a request made with `key`. */
async function statusWith(key: string): Promise<number> {
  const res = await fetch(`${baseURL}/v1/identification?limit=1`, { headers: { authorization: `Bearer ${key}` } });
  return res.status;
}

test('revoking an API key asks first, naming it; keeping it changes nothing', async ({ page, jsEnabled }) => {
  await signIn(page);
  const secret = await createKey(page);
  const prefix = `${secret.slice(0, 12)}…`;
  expect(await statusWith(secret)).toBe(200);

  const row = page.getByRole('region', { name: 'API keys' }).getByRole('row').filter({ hasText: prefix });
  await expect(row.getByRole('button')).toHaveCount(0);
  await row.getByRole('link', { name: /^Revoke key_/ }).click();
  await expect(page).toHaveURL(/\/dashboard\/keys\/key_[A-Za-z0-9]+\/revoke$/);
  await checkQuestion(page, jsEnabled, 'Revoke API key');
  await expect(page.locator('main')).toContainText(prefix);
  await expect(page.locator('main')).not.toContainText(secret);
  const question = page.url();

  await page.getByRole('link', { name: 'Keep the key' }).click();
  await expect(page).toHaveURL(/\/dashboard\/keys$/);
  expect(await statusWith(secret)).toBe(200);

  await page.goto(question);
  await page.getByRole('button', { name: 'Yes, revoke the key' }).click();
  await expect(page).toHaveURL(/\/dashboard\/keys$/);
  await expect(page.getByRole('status')).toContainText('is revoked: it no longer authenticates.');
  await expect(row).toContainText('revoked');
  await expect(row.getByRole('link')).toHaveCount(0);
  expect(await statusWith(secret)).toBe(401);

  const again = await page.goto(question);
  expect(again?.status()).toBe(409);
  await expect(page.getByRole('button', { name: 'Yes, revoke the key' })).toHaveCount(0);
});

/** Reveals the webhook secret on the webhooks page; the secret shown. */
async function revealSecret(page: Page): Promise<string> {
  await page.goto('/dashboard/webhooks');
  await page.getByRole('button', { name: 'Reveal signing secret' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Your webhook signing secret' })).toBeVisible();
  return (await page.locator('.once code.secret').textContent())!.trim();
}

// Every project asks and keeps the secret; one project (JavaScript off, where
// the plain form must do it) also rotates. The organisation is shared, and
// its original secret must keep signing for the shop: one rotation keeps it
// signing for 24 hours, a second would stop it.
test('rotating the webhook secret asks first; asking and keeping it change nothing', async ({ page, jsEnabled }) => {
  const rotates = test.info().project.name === 'desktop-nojs';
  await signIn(page);
  const before = rotates ? await revealSecret(page) : null;

  await page.goto('/dashboard/webhooks');
  await expect(page.getByRole('button', { name: 'Rotate secret' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Rotate secret' }).click();
  await expect(page).toHaveURL(/\/dashboard\/webhooks\/rotate$/);
  await checkQuestion(page, jsEnabled, 'Rotate webhook secret');
  await expect(page.locator('main')).not.toContainText('whsec_');
  await page.reload();
  await page.getByRole('link', { name: 'Keep the current secret' }).click();
  await expect(page).toHaveURL(/\/dashboard\/webhooks$/);
  if (!rotates) return;

  expect(await revealSecret(page)).toBe(before);
  await page.goto('/dashboard/webhooks/rotate');
  await page.getByRole('button', { name: 'Yes, rotate the secret' }).click();
  await expect(page).toHaveURL(/\/dashboard\/webhooks$/);
  await expect(page.getByRole('status')).toContainText('The secret is rotated.');
  const after = (await page.locator('.once code.secret').textContent())!.trim();
  expect(after).toMatch(/^whsec_/);
  expect(after).not.toBe(before);
  // Within the overlap the question warns what rotating again would end.
  await page.goto('/dashboard/webhooks/rotate');
  await expect(page.getByText('A rotation is already under way.')).toBeVisible();
});

test('errors are red alerts beside the field, successes green notes; a refused form keeps what was typed', async ({
  page,
  integrator,
}) => {
  const name = unique();
  await signIn(page);
  await page.goto('/dashboard/proofmes/new');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Purpose', { exact: true }).selectOption({ label: 'KYC verification' });
  // A choice made without asking for the credential (so nothing is asked).
  const emailNeed = page.getByRole('group', { name: 'Email address' }).getByLabel('Required or optional');
  await emailNeed.selectOption('optional');
  await page.getByRole('button', { name: 'Create proofme' }).click();

  // Back on the form as it was typed, the reason beside the credentials.
  await expect(page).toHaveURL(/\/dashboard\/proofmes\/new$/);
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
  await expect(page.getByLabel('Purpose', { exact: true })).toHaveValue('KYC_VERIFICATION');
  await expect(emailNeed).toHaveValue('optional');
  const error = page.getByRole('alert');
  await expect(error).toHaveText('Ask for at least one credential.');
  await expect(page.getByRole('group', { name: 'Credentials' }).getByRole('alert')).toHaveCount(1);
  await expect(page.getByRole('checkbox', { name: 'Ask for Older than 18' })).toBeFocused();
  const bad = await colours(page, '#credentials-error');
  expect(isRed(bad.color), bad.color).toBe(true);

  // Put right: saved, and said in a green note, not an alert.
  await page.getByRole('checkbox', { name: 'Ask for Email address' }).check();
  await page.getByRole('button', { name: 'Create proofme' }).click();
  await expect(page.getByRole('status')).toHaveText('The proofme is created.');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
  const good = await colours(page, 'main > p.flash');
  expect(isGreen(good.edge), good.edge).toBe(true);

  // Why an action did nothing, at the top: someone revoked it meanwhile.
  const c = await integrator.create({ description: unique() });
  await page.goto(`/dashboard/identifications/${c.id}/revoke`);
  await integrator.revoke(c.id);
  await page.getByRole('button', { name: 'Yes, revoke it' }).click();
  await expect(page.getByRole('alert')).toHaveText('The identification is revoked and cannot be revoked.');
  await expect(page.getByRole('status')).toHaveCount(0);
  const alert = await colours(page, 'main > p.alert');
  expect(isRed(alert.color), alert.color).toBe(true);
  expect(isRed(alert.edge), alert.edge).toBe(true);
  expect(alert.background).not.toBe(good.background);
  expect(alert.edgeWidth).toBe('6px');
});

test('a refused test webhook URL stays as typed, its reason beside it', async ({ page }) => {
  const url = `ftp://${unique()}.example/hook`;
  await signIn(page);
  await page.goto('/dashboard/webhooks');
  await page.getByLabel('Webhook URL').fill(url);
  await page.getByRole('button', { name: 'Send test webhook' }).click();

  await expect(page).toHaveURL(/\/dashboard\/webhooks$/);
  await expect(page.getByLabel('Webhook URL')).toHaveValue(url);
  await expect(page.getByLabel('Webhook URL')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Webhook URL')).toBeFocused();
  const error = page.locator('#url-error');
  await expect(error).toHaveAttribute('role', 'alert');
  await expect(error).toHaveText('The webhook URL must be an absolute http or https URL.');
  expect(isRed((await colours(page, '#url-error')).color)).toBe(true);
});

test('"Copy" beside a new key: it copies with JavaScript, and is not there without', async ({ page, context, jsEnabled }) => {
  if (jsEnabled) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await signIn(page);
  const secret = await createKey(page);
  const copy = page.getByRole('button', { name: 'Copy', exact: true });
  await expect(page.getByText('no one can show it to you again', { exact: false })).toBeVisible();
  if (!jsEnabled) {
    await expect(copy).toHaveCount(0);
    // The secret is still there to select and copy by hand.
    await expect(page.locator('.once code.secret')).toHaveText(secret);
    return;
  }
  await expect(copy).toBeVisible();
  await copy.click();
  await expect(page.getByRole('button', { name: 'Copied', exact: true })).toBeVisible();
  await expect(page.getByText('Copied to the clipboard.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
});

test('"Copy" beside the webhook secret, with words that hold', async ({ page, context, jsEnabled }) => {
  if (jsEnabled) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await signIn(page);
  const secret = await revealSecret(page);
  const once = page.locator('section.once');
  await expect(once).not.toContainText('only once');
  await expect(once).toContainText('“Reveal signing secret” below shows it again whenever you need it.');
  const copy = page.getByRole('button', { name: 'Copy', exact: true });
  if (!jsEnabled) {
    await expect(copy).toHaveCount(0);
    return;
  }
  await copy.click();
  await expect(page.getByText('Copied to the clipboard.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await expectNoAxeViolations(page);
});

// The questions in the dark colour scheme too (JavaScript on: axe runs as a script).
test.describe('dark colour scheme', () => {
  test.use({ colorScheme: 'dark' });
  test('axe finds nothing on the questions in the dark @needs-js', async ({ page, integrator }) => {
    const c = await integrator.create({ description: unique() });
    await integrator.testOutcome(c.id, 'pending');
    await signIn(page);
    for (const [path, heading] of [
      [`/dashboard/identifications/${c.id}/revoke`, 'Revoke identification'],
      ['/dashboard/webhooks/rotate', 'Rotate webhook secret'],
    ]) {
      await page.goto(path);
      await checkQuestion(page, true, heading);
      const danger = await colours(page, 'form button.danger');
      expect(isRed(danger.background), danger.background).toBe(true);
    }
  });
});
