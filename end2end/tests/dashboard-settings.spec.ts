// The dashboard's settings (/dashboard/settings): the organisation's name
// (what MyPage shows), its end-to-end data recipient and its data retention
// change through plain forms; a refused value stays in its field with the
// reason beside it; every change is in the audit log; the page passes axe
// in both colour schemes and fits a 360 px screen.
//
// Other specs rely on the shared organisation's name and on reading its
// shared data, so every test here makes an organisation (and a dashboard
// user) of its own with the admin commands.
import type { Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { baseURL, binary, serverEnv } from '../support/env';
import { test, expect } from '../support/fixtures';
import { axeTest, expectNoAxeViolations, signIn } from '../support/dashboard';

const SETTINGS = '/dashboard/settings';
/** An age public key whose private key nobody kept. */
const RECIPIENT = 'age1nl50h4wgypfupqecjdxuvyer3nnx8eehp09w2r0zxwc33y3snxascqmfgz';
const NOT_A_RECIPIENT =
  'This is not an age recipient. An age recipient (public key) starts with age1 and is 62 characters long; ' +
  'leave the field empty for encryption at rest.';

interface OwnOrganisation {
  id: string;
  name: string;
  email: string;
  password: string;
  testKey: string;
  proofmeId: string;
}

function admin(args: string[], input?: string): Record<string, string> {
  const out = execFileSync(binary, ['admin', ...args], {
    env: { ...process.env, ...serverEnv },
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'],
  });
  return JSON.parse(out);
}

/** A new organisation with a test key, a proofme and one dashboard user. */
function ownOrganisation(): OwnOrganisation {
  const suffix = crypto.randomBytes(4).toString('hex');
  const org = admin(['create-organisation', '--name', `Settings Shop ${suffix}`]);
  const key = admin(['create-api-key', '--organisation', org.id, '--mode', 'test']);
  const proofme = admin([
    'create-proofme',
    '--organisation', org.id,
    '--name', 'Age check',
    '--purpose', 'AGE_VERIFICATION',
    '--credential', 'EPASS:OLDER_THAN_18',
  ]);
  const email = `settings-${suffix}@e2e-shop.example`;
  const password = crypto.randomBytes(18).toString('base64url');
  admin(['create-user', '--organisation', org.id, '--email', email], `${password}\n`);
  return { id: org.id, name: org.name, email, password, testKey: key.key, proofmeId: proofme.id };
}

/** MyPage's path of a new test identification of `org`. */
async function newIdentification(org: OwnOrganisation): Promise<string> {
  const res = await fetch(`${baseURL}/v1/identification`, {
    method: 'POST',
    headers: { authorization: `Bearer ${org.testKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      proofmeId: org.proofmeId,
      organisationId: org.id,
      redirectUrl: 'https://shop.example/return',
    }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return new URL(body.myPageUrl).pathname;
}

function flash(page: Page) {
  return page.getByRole('main').getByRole('status');
}

test('each setting saves and is audited; MyPage shows the new name', async ({ page }) => {
  const org = ownOrganisation();
  await signIn(page, org);

  // Last in the navigation.
  const nav = page.getByRole('navigation', { name: 'Dashboard' });
  await expect(nav.getByRole('listitem').last()).toHaveText('Settings');
  await nav.getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL(new RegExp(`${SETTINGS}$`));
  await expect(page).toHaveTitle(/^Settings/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
  await expect(nav.getByRole('link', { name: 'Settings' })).toHaveAttribute('aria-current', 'page');

  // The name.
  const name = page.getByRole('textbox', { name: 'Name', exact: true });
  await expect(name).toHaveValue(org.name);
  await name.fill('  Renamed Shop  ');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(flash(page)).toHaveText('Your organisation\'s name is now “Renamed Shop”.');
  await expect(name).toHaveValue('Renamed Shop');
  await page.goto(await newIdentification(org));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Renamed Shop would like to verify you');

  // The recipient, explained.
  await page.goto(SETTINGS);
  await expect(page.getByText('Proofme cannot read it and the dashboard cannot show it')).toBeVisible();
  const recipient = page.getByRole('textbox', { name: 'Age recipient (public key)' });
  await recipient.fill(RECIPIENT);
  await page.getByRole('button', { name: 'Save recipient' }).click();
  await expect(flash(page)).toHaveText(
    'Shared data is now encrypted end to end to your recipient: the dashboard cannot show it.',
  );
  await expect(recipient).toHaveValue(RECIPIENT);
  await expect(page.getByText(`Now: end to end, to ${RECIPIENT}.`)).toBeVisible();

  // The retention: only shorter than the deployment's 30 days.
  const retention = page.getByRole('spinbutton', { name: 'Days (1 to 30)' });
  await expect(retention).toHaveAttribute('max', '30');
  await retention.fill('7');
  await page.getByRole('button', { name: 'Save retention' }).click();
  await expect(flash(page)).toHaveText('Shared data is now kept for 7 days.');
  await expect(retention).toHaveValue('7');

  // The audit log has the three changes, old → new.
  await page.goto('/dashboard/audit?action=settings_name_changed');
  await expect(page.getByRole('region', { name: 'Audit events' })).toContainText(`“${org.name}” → “Renamed Shop”`);
  await page.goto('/dashboard/audit?action=settings_recipient_changed');
  await expect(page.getByRole('region', { name: 'Audit events' })).toContainText(`none → ${RECIPIENT}`);
  await page.goto('/dashboard/audit?action=settings_retention_changed');
  await expect(page.getByRole('region', { name: 'Audit events' })).toContainText(
    "the deployment's 30 days → 7 days",
  );
});

test('a refused value stays in its field with the reason beside it, and nothing changes', async ({ page }) => {
  const org = ownOrganisation();
  await signIn(page, org);
  await page.goto(SETTINGS);

  const recipient = page.getByRole('textbox', { name: 'Age recipient (public key)' });
  await recipient.fill('age1nope');
  await page.getByRole('button', { name: 'Save recipient' }).click();
  await expect(page).toHaveURL(new RegExp(`${SETTINGS}$`));
  const why = page.locator('#recipient-error');
  await expect(why).toHaveText(NOT_A_RECIPIENT);
  await expect(why).toHaveRole('alert');
  await expect(recipient).toHaveValue('age1nope');
  await expect(recipient).toHaveAttribute('aria-invalid', 'true');
  await expect(recipient).toHaveAccessibleDescription(/Starts with age1\..*This is not an age recipient/);
  await expect(page.getByText('Now: encryption at rest (no recipient).')).toBeVisible();
  await expect(flash(page)).toHaveCount(0);

  // Blank is not a name (the browser lets spaces through; the server trims).
  const name = page.getByRole('textbox', { name: 'Name', exact: true });
  await name.fill('   ');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.locator('#name-error')).toHaveText("Enter your organisation's name.");
  await expect(name).toHaveValue('   ');

  // A reload shows what is saved, without the reason.
  await page.reload();
  await expect(name).toHaveValue(org.name);
  await expect(recipient).toHaveValue('');
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('settings need a signed-in user', async ({ page }) => {
  await page.goto(SETTINGS);
  await expect(page).toHaveURL(/\/dashboard\/login$/);
});


for (const scheme of ['light', 'dark'] as const) {
  axeTest.describe(`${scheme} colour scheme`, () => {
    axeTest.use({ colorScheme: scheme });
    axeTest(`axe finds no WCAG 2.2 AA violation on the settings page, saved and refused (${scheme})`, async ({
      axePage: page,
      jsEnabled,
    }) => {
      // The stylesheet is the same with JavaScript off: dark is checked once per size.
      axeTest.skip(scheme === 'dark' && !jsEnabled, 'dark is checked with JavaScript on');
      const org = ownOrganisation();
      await signIn(page, org);
      await page.goto(SETTINGS);
      await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Axe Shop');
      await page.getByRole('button', { name: 'Save name' }).click();
      await expect(flash(page)).toBeVisible();
      await expectNoAxeViolations(page);

      await page.getByRole('textbox', { name: 'Age recipient (public key)' }).fill('age1nope');
      await page.getByRole('button', { name: 'Save recipient' }).click();
      await expect(page.locator('#recipient-error')).toBeVisible();
      await expectNoAxeViolations(page);
    });
  });
}

test('no horizontal page scrolling on the settings page, down to 360 px', async ({ page }) => {
  const org = ownOrganisation();
  await signIn(page, org);
  await page.goto(SETTINGS);
  // The longest things the page shows: a recipient and the reason for a refused one.
  await page.getByRole('textbox', { name: 'Age recipient (public key)' }).fill(RECIPIENT);
  await page.getByRole('button', { name: 'Save recipient' }).click();
  await expect(flash(page)).toBeVisible();
  await page.getByRole('textbox', { name: 'Age recipient (public key)' }).fill(`${RECIPIENT}x`);
  await page.getByRole('button', { name: 'Save recipient' }).click();
  await expect(page.locator('#recipient-error')).toBeVisible();
  const height = page.viewportSize()!.height;
  for (const width of [...new Set([page.viewportSize()!.width, 360])]) {
    await page.setViewportSize({ width, height });
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
    const scrollWidth = await page.evaluate(() => document.scrollingElement!.scrollWidth);
    expect(scrollWidth, `scrollWidth at ${width} px`).toBeLessThanOrEqual(width);
  }
});
