// The browser's own wallet chooser: MyPage asks through the Digital
// Credentials API. No browser here has a wallet behind the API, so the page
// gets a stand-in for `navigator.credentials.get` that hands the request to
// `proofme wallet dc-api`, a wallet that checks the signed request (signature,
// client_id, our origin among expected_origins) and answers with a
// presentation bound to the origin it is told. The page, its script, the
// server and the wallet's cryptography are all real.
import type { Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { test, expect, expectAtShop, baseURL } from '../support/fixtures';
import { binary } from '../support/env';
import { TEXT } from '../support/text';

const t = TEXT.en;

/** How the stand-in behaves when the page asks. */
type Sheet =
  | { kind: 'present'; args: string[]; origin?: string }
  | { kind: 'closed' };

/** What the stand-in saw: the page's request to the browser. */
interface Seen {
  protocol: string;
  mediation: string;
  hasRequest: boolean;
}

/** Installs the stand-in for the Digital Credentials API before the page's
 *  script runs. It reads `sheet` on each call, so a test may change it. */
async function browserWallet(page: Page, sheet: Sheet): Promise<Seen[]> {
  const seen: Seen[] = [];
  await page.exposeFunction('__walletAnswer', (s: Seen, request: string, pageOrigin: string) => {
    seen.push(s);
    if (sheet.kind === 'closed') return { closed: true };
    const origin = sheet.origin ?? pageOrigin;
    const run = spawnSync(binary, ['wallet', 'dc-api', '--origin', origin, '--server', baseURL, ...sheet.args], {
      input: request,
      env: { ...process.env, RUST_LOG: 'warn' },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`the wallet refused: ${run.stderr}`);
    return { response: run.stdout.trim() };
  });
  await page.addInitScript(() => {
    class DigitalCredential {
      static userAgentAllowsProtocol(protocol: string) {
        return protocol === 'openid4vp-v1-signed';
      }
    }
    Object.defineProperty(window, 'DigitalCredential', { value: DigitalCredential, configurable: true });
    navigator.credentials.get = async (options?: any) => {
      const request = options?.digital?.requests?.[0];
      const seen = {
        protocol: request?.protocol,
        mediation: options?.mediation,
        hasRequest: typeof request?.data?.request === 'string',
      };
      const answer = await (window as any).__walletAnswer(seen, request?.data?.request, window.location.origin);
      if (answer.closed) throw new DOMException('The sheet was closed', 'NotAllowedError');
      return { protocol: request.protocol, data: { response: answer.response } } as any;
    };
  });
  return seen;
}

test.describe('the Digital Credentials API @needs-js', () => {
  test('the browser wallet completes the identification and the page goes on to the shop', async ({ page, integrator }) => {
    const ident = await integrator.create();
    const seen = await browserWallet(page, { kind: 'present', args: [] });
    await page.goto(ident.path);

    const button = page.getByRole('button', { name: t.useWalletOnDevice });
    await expect(button).toBeVisible();
    await button.click();

    await expectAtShop(page, ident, 'verified');
    expect(seen).toEqual([{ protocol: 'openid4vp-v1-signed', mediation: 'required', hasRequest: true }]);
    expect((await integrator.get(ident.id)).statusName).toBe('verified');
    expect(await integrator.data(ident.id)).toMatchObject({ OLDER_THAN_18: true });
  });

  test("the EU age-verification app's mdoc goes through the browser wallet too", async ({ page, integrator }) => {
    const ident = await integrator.create({ credentials: 'age' });
    await browserWallet(page, { kind: 'present', args: ['--format', 'mdoc', '--doctype', 'eu.europa.ec.av.1'] });
    await page.goto(ident.path);

    await page.getByRole('button', { name: t.useWalletOnDevice }).click();

    await expectAtShop(page, ident, 'verified');
    expect(await integrator.data(ident.id)).toEqual({ OLDER_THAN_18: true });
  });

  test('a sheet closed without an answer keeps the other ways to the wallet, and a second try completes', async ({ page, integrator, isMobile }) => {
    const ident = await integrator.create();
    const sheet: Sheet = { kind: 'closed' };
    const seen = await browserWallet(page, sheet);
    await page.goto(ident.path);

    const button = page.getByRole('button', { name: t.useWalletOnDevice });
    await button.click();
    await expect(page.getByText(t.deviceWalletClosed)).toBeVisible();
    expect(seen).toHaveLength(1);
    // Asking made the identification pending, as a wallet's fetch does, but
    // the page keeps the link and the QR code rather than "continue in your
    // wallet": no wallet has the request.
    await expect.poll(async () => (await integrator.get(ident.id)).statusName).toBe('pending');
    const link = isMobile
      ? page.getByRole('link', { name: t.openWallet, exact: true })
      : page.getByRole('link', { name: t.openWalletHere });
    await expect(link).toBeVisible();
    await expect(page.getByRole('heading', { name: t.pendingHeading })).toBeHidden();
    await expect(button).not.toHaveAttribute('aria-busy');

    // The person tries again and picks a wallet this time.
    Object.assign(sheet, { kind: 'present', args: [] });
    await button.click();
    await expectAtShop(page, ident, 'verified');
  });

  test('a presentation bound to another origin is refused and changes nothing', async ({ page, integrator }) => {
    const ident = await integrator.create();
    // A careless wallet answers for the page a phishing site would show.
    await browserWallet(page, {
      kind: 'present',
      args: ['--no-origin-check'],
      origin: 'https://shop-lookalike.example',
    });
    await page.goto(ident.path);

    await page.getByRole('button', { name: t.useWalletOnDevice }).click();

    await expect(page.getByText(t.deviceWalletFailed)).toBeVisible();
    const after = await integrator.get(ident.id);
    expect(after.statusName).toBe('pending');
    expect(after.failureReason ?? null).toBeNull();
    expect(new URL(page.url()).pathname).toBe(ident.path);
  });
});

test('without the Digital Credentials API the page offers no browser wallet', async ({ page, integrator }) => {
  const ident = await integrator.create();
  await page.addInitScript(() => {
    delete (window as any).DigitalCredential;
  });
  await page.goto(ident.path);
  // The wallet link is there either way; the browser's chooser only where
  // the script found the API (never without JavaScript).
  await expect(page.getByRole('region', { name: t.walletHeading })).toBeVisible();
  await expect(page.getByRole('button', { name: t.useWalletOnDevice })).toBeHidden();
});
