// The tests' view of the world: an integrator that can create identifications
// and drive them through the API, and its shop.
import { test as base, expect, type Page } from '@playwright/test';
import * as crypto from 'node:crypto';
import { baseURL, readFixtures, shopURL, type Fixtures } from './env';
import type { ReceivedWebhook } from './shop';

export type Outcome = 'verified' | 'failed' | 'canceled' | 'expired';
export type FinalStatus = Outcome | 'revoked';

export interface Identification {
  id: string;
  myPageUrl: string;
  status: string;
  statusName: string;
  mode: 'test' | 'live';
  description: string | null;
  redirectUrl: string;
  createdAt: string;
  /** Why the wallet's answer was refused (`null` unless failed by the wallet). */
  failureReason?: string | null;
}

export interface CreateOptions {
  mode?: 'test' | 'live';
  locale?: string;
  description?: string;
  webhook?: boolean;
  /** Which proofme: over-18 and an optional email (default), nine credentials, or over-18 alone. */
  credentials?: 'two' | 'nine' | 'age';
}

/** A created identification, with the reference the shop knows it by. */
export interface Created extends Identification {
  ref: string;
  /** MyPage's path, for `page.goto` against the baseURL. */
  path: string;
  /** Where the customer lands at the shop after MyPage. */
  returnUrl: string;
}

export class Integrator {
  constructor(private readonly fx: Fixtures) {
    if (new URL(shopURL).port === '0') throw new Error('E2E_SHOP_PORT is unset: did the global setup run?');
  }

  get orgName(): string {
    return this.fx.organisation.name;
  }

  /** Reads and changes go through the live key: it sees both modes, while the
   *  test key sees test identifications only. */
  private async call(
    method: string,
    path: string,
    body?: unknown,
    key = this.fx.liveKey,
  ): Promise<{ status: number; json: any }> {
    const res = await fetch(`${baseURL}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  /** Creates an identification whose redirectUrl is the shop's return page. */
  async create(options: CreateOptions = {}): Promise<Created> {
    const mode = options.mode ?? 'test';
    const ref = options.description ?? `e2e-${crypto.randomBytes(9).toString('hex')}`;
    const returnUrl = `${shopURL}/return?ref=${encodeURIComponent(ref)}`;
    const body: Record<string, unknown> = {
      proofmeId: {
        two: this.fx.proofmeId,
        nine: this.fx.nineCredentialProofmeId,
        age: this.fx.ageOnlyProofmeId,
      }[options.credentials ?? 'two'],
      organisationId: this.fx.organisation.id,
      redirectUrl: returnUrl,
      description: ref,
    };
    if (options.locale) body.locale = options.locale;
    if (options.webhook) body.webhookUrl = `${shopURL}/webhook`;
    const key = mode === 'live' ? this.fx.liveKey : this.fx.testKey;
    const res = await this.call('POST', '/v1/identification', body, key);
    expect(res.status, `create: ${JSON.stringify(res.json)}`).toBe(201);
    expect(res.json.mode).toBe(mode);
    const ident = res.json as Identification;
    return { ...ident, ref, path: new URL(ident.myPageUrl).pathname, returnUrl };
  }

  async get(id: string): Promise<Identification> {
    const res = await this.call('GET', `/v1/identification/${id}`);
    expect(res.status, `get: ${JSON.stringify(res.json)}`).toBe(200);
    return res.json as Identification;
  }

  /** The shared attributes (`null` before verified). */
  async data(id: string): Promise<Record<string, unknown> | null> {
    const res = await this.call('GET', `/v1/identification/data/${id}`);
    expect(res.status, `data: ${JSON.stringify(res.json)}`).toBe(200);
    return res.json.data;
  }

  /** Drives a test identification to a status, as an integrator's CI would. */
  async testOutcome(id: string, status: Outcome | 'pending'): Promise<void> {
    const res = await this.call('POST', `/v1/identification/${id}/test-outcome`, { status });
    expect(res.status, `test-outcome ${status}: ${JSON.stringify(res.json)}`).toBe(200);
  }

  async revoke(id: string): Promise<void> {
    const res = await this.call('DELETE', `/v1/identification/${id}`);
    expect(res.status, `revoke: ${JSON.stringify(res.json)}`).toBe(200);
  }

  /** Ends an identification in a final status through the API. */
  async finish(id: string, status: FinalStatus): Promise<void> {
    if (status === 'revoked') await this.revoke(id);
    else await this.testOutcome(id, status);
  }

  async webhooks(id: string): Promise<ReceivedWebhook[]> {
    const res = await fetch(`${shopURL}/webhooks?id=${encodeURIComponent(id)}`);
    return (await res.json()) as ReceivedWebhook[];
  }

  /**
   * Ends a fresh identification and waits for its webhook. Messages go out
   * oldest first, so once it has arrived, any message written before it has
   * had its turn: what has not arrived by then was never sent.
   */
  async webhookRoundTrip(): Promise<void> {
    const later = await this.create({ webhook: true });
    await this.finish(later.id, 'verified');
    await expect.poll(async () => (await this.webhooks(later.id)).length, { timeout: 10_000 }).toBe(1);
  }
}

export const test = base.extend<{ jsEnabled: boolean }, { integrator: Integrator }>({
  integrator: [async ({}, use) => use(new Integrator(readFixtures())), { scope: 'worker' }],
  jsEnabled: async ({ javaScriptEnabled }, use) => use(javaScriptEnabled !== false),
});

export { expect };

/** Expects the browser at the shop's return page, showing this final status. */
export async function expectAtShop(page: Page, created: Created, statusName: string) {
  await expect(page).toHaveURL(created.returnUrl);
  await expect(page.getByRole('heading', { level: 1, name: 'Shop' })).toBeVisible();
  await expect(page.locator('#status')).toHaveText(statusName);
  await expect(page.locator('#identification')).toHaveText(created.id);
}

export { shopURL, baseURL };
