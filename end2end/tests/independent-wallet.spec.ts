// Live identifications completed by a wallet built on other implementations
// than Proofme's (support/independent-wallet.ts: @owf/mdoc, jose, openssl):
// the verifier must accept what the rest of the world makes, not only what
// its own wallet makes.
import * as crypto from 'node:crypto';
import { test, expect, expectAtShop, baseURL } from '../support/fixtures';
import { TEXT } from '../support/text';
import { independentIssuer } from '../support/env';
import {
  fetchRequest,
  jwkThumbprintBytes,
  mdocQuery,
  presentMdoc,
  presentMdocFor,
  presentSdJwt,
  type MdocDoctype,
} from '../support/independent-wallet';

// The protocol does not depend on the browser: one project runs these.
test.beforeEach(async ({}, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop-js', 'wallet protocol: one browser project is enough');
});

const requestUri = (id: string) => `${baseURL}/oid4vp/request/${id}`;

const DOCTYPES: { doctype: MdocDoctype; name: string }[] = [
  { doctype: 'eu.europa.ec.eudi.pid.1', name: 'a PID' },
  { doctype: 'org.iso.18013.5.1.mDL', name: 'an mDL' },
  { doctype: 'eu.europa.ec.av.1', name: 'an EU age attestation' },
];

for (const { doctype, name } of DOCTYPES) {
  test(`an independent wallet with ${name} mdoc completes a live identification`, async ({ page, integrator }) => {
    const ident = await integrator.create({ mode: 'live', credentials: 'age' });

    const answer = await presentMdoc(requestUri(ident.id), { doctype, issuer: independentIssuer.trusted });

    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.redirect_uri).toContain(`${baseURL}/${ident.id}/done?response_code=`);
    const after = await integrator.get(ident.id);
    expect(after.failureReason ?? null).toBeNull();
    expect(after.statusName).toBe('verified');
    expect(await integrator.data(ident.id)).toEqual({ OLDER_THAN_18: true });
    // Same device: the wallet sends the customer through the verifier to the shop.
    await page.goto(answer.body.redirect_uri);
    await expectAtShop(page, ident, 'verified');
  });
}

test('an independent PID mdoc shares the optional email it is asked for', async ({ integrator }) => {
  const ident = await integrator.create({ mode: 'live' });

  const answer = await presentMdoc(requestUri(ident.id), {
    doctype: 'eu.europa.ec.eudi.pid.1',
    issuer: independentIssuer.trusted,
  });

  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect((await integrator.get(ident.id)).statusName).toBe('verified');
  expect(await integrator.data(ident.id)).toEqual({ OLDER_THAN_18: true, EMAIL: 'erika@example.org' });
});

test('an independent wallet with an SD-JWT PID made with jose completes a live identification', async ({ integrator }) => {
  const ident = await integrator.create({ mode: 'live' });

  const answer = await presentSdJwt(requestUri(ident.id), { issuer: independentIssuer.trusted });

  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.redirect_uri).toContain(`${baseURL}/${ident.id}/done?response_code=`);
  const after = await integrator.get(ident.id);
  expect(after.failureReason ?? null).toBeNull();
  expect(after.statusName).toBe('verified');
  expect(await integrator.data(ident.id)).toEqual({ OLDER_THAN_18: true, EMAIL: 'erika@example.org' });
});

test('an open MyPage follows the independent wallet to the shop @needs-js', async ({ page, integrator }) => {
  const ident = await integrator.create({ mode: 'live', credentials: 'age' });
  const events = page.waitForResponse((r) => r.url().endsWith(`/${ident.id}/events`));
  await page.goto(ident.path);
  expect((await events).status()).toBe(200);
  const link = (await page.getByRole('link', { name: TEXT.en.openWalletHere }).getAttribute('href')) ?? '';
  expect(link).toMatch(/^openid4vp:/);

  const answer = await presentMdoc(link, { doctype: 'org.iso.18013.5.1.mDL', issuer: independentIssuer.trusted });

  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  await expectAtShop(page, ident, 'verified');
});

test('an mdoc from an issuer the server does not trust fails the identification as untrusted_issuer', async ({ page, integrator }) => {
  const ident = await integrator.create({ mode: 'live', credentials: 'age' });

  const answer = await presentMdoc(requestUri(ident.id), {
    doctype: 'eu.europa.ec.av.1',
    issuer: independentIssuer.untrusted,
  });

  // The answer is taken: the wallet gets the way back for the customer
  // (HAIP), and the reason is the integrator's to read.
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.redirect_uri).toContain(`${baseURL}/${ident.id}/done?response_code=`);
  const after = await integrator.get(ident.id);
  expect(after.statusName).toBe('failed');
  expect(after.failureReason).toBe('untrusted_issuer');
  await page.goto(answer.body.redirect_uri);
  await expectAtShop(page, ident, 'failed');
});

test('an SD-JWT PID from an issuer the server does not trust fails the identification as untrusted_issuer', async ({ page, integrator }) => {
  const ident = await integrator.create({ mode: 'live' });

  const answer = await presentSdJwt(requestUri(ident.id), { issuer: independentIssuer.untrusted });

  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.redirect_uri).toContain(`${baseURL}/${ident.id}/done?response_code=`);
  const after = await integrator.get(ident.id);
  expect(after.statusName).toBe('failed');
  expect(after.failureReason).toBe('untrusted_issuer');
  await page.goto(answer.body.redirect_uri);
  await expectAtShop(page, ident, 'failed');
});

test('an independent mdoc that says the holder is under 18 fails as age_requirement_not_met', async ({ page, integrator }) => {
  const ident = await integrator.create({ mode: 'live', credentials: 'age' });

  // Both ages false: ISO 18013-5 lets a wallet answer age_over_18 with a true
  // age_over_21, which @owf/mdoc does.
  const answer = await presentMdoc(requestUri(ident.id), {
    doctype: 'org.iso.18013.5.1.mDL',
    issuer: independentIssuer.trusted,
    elements: { age_over_18: false, age_over_21: false },
  });

  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.redirect_uri).toContain(`${baseURL}/${ident.id}/done?response_code=`);
  const after = await integrator.get(ident.id);
  expect(after.statusName).toBe('failed');
  expect(after.failureReason).toBe('age_requirement_not_met');
  expect(await integrator.data(ident.id)).toBeNull();
  await page.goto(answer.body.redirect_uri);
  await expectAtShop(page, ident, 'failed');
});

// The handover written out by hand from OpenID4VP 1.0 Appendix B.2.6.1, so a
// library that built another draft's handover would be caught here, not only
// by the server's refusal.
function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  throw new Error('longer than this test needs');
}
const cborText = (s: string) => Buffer.concat([cborHead(3, Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);
const cborBytes = (b: Uint8Array) => Buffer.concat([cborHead(2, b.length), b]);
const cborArray = (items: Buffer[]) => Buffer.concat([cborHead(4, items.length), ...items]);
const CBOR_NULL = Buffer.from([0xf6]);

test("@owf/mdoc's session transcript is OpenID4VP 1.0's redirect handover over the request's values", async ({ integrator }) => {
  const ident = await integrator.create({ mode: 'live', credentials: 'age' });
  const request = await fetchRequest(requestUri(ident.id));
  const thumbprint = await jwkThumbprintBytes(request.encryptionJwk);
  expect(thumbprint).toHaveLength(32);

  const { sessionTranscript } = await presentMdocFor(request, mdocQuery(request, 'eu.europa.ec.av.1'), {
    doctype: 'eu.europa.ec.av.1',
    issuer: independentIssuer.trusted,
  });

  const info = cborArray([
    cborText(request.clientId),
    cborText(request.nonce),
    cborBytes(thumbprint),
    cborText(request.responseUri),
  ]);
  const handover = cborArray([cborText('OpenID4VPHandover'), cborBytes(crypto.createHash('sha256').update(info).digest())]);
  const expected = cborArray([CBOR_NULL, CBOR_NULL, handover]);
  expect(Buffer.from(sessionTranscript.encode()).toString('hex')).toBe(expected.toString('hex'));
});
