// A wallet built on other people's code: the mdoc from @owf/mdoc (OpenWallet
// Foundation), every JOSE step from `jose`, keys and hashes from node:crypto,
// and issuer certificates from the openssl CLI (see env.ts). Nothing of
// Proofme's own code or binary takes part, so a shared misreading of a
// standard between Proofme's verifier and Proofme's wallet cannot hide here.
//
// It does what a phone does for OpenID4VP 1.0 by reference with
// direct_post.jwt: fetch and check the signed request, pick the DCQL query
// for its credential, present it, encrypt the answer to the verifier's key
// and post it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import {
  CoseKey,
  DateOnly,
  DeviceKey,
  DeviceRequest,
  DocRequest,
  Holder,
  ItemsRequest,
  Issuer,
  SessionTranscript,
  SignatureAlgorithm,
  type MdocContext,
} from '@owf/mdoc';
import * as jose from 'jose';
import type { IssuerPki } from './env';

export type MdocDoctype = 'eu.europa.ec.eudi.pid.1' | 'org.iso.18013.5.1.mDL' | 'eu.europa.ec.av.1';

/** The namespace of each doctype's elements (the mDL's is not its doctype). */
export const NAMESPACE: Record<MdocDoctype, string> = {
  'eu.europa.ec.eudi.pid.1': 'eu.europa.ec.eudi.pid.1',
  'org.iso.18013.5.1.mDL': 'org.iso.18013.5.1',
  'eu.europa.ec.av.1': 'eu.europa.ec.av.1',
};

/** What each credential holds: more than any one request asks, so the
 *  wallet's selective disclosure is exercised too. */
function issuedElements(doctype: MdocDoctype): Record<string, unknown> {
  const person = {
    given_name: 'Erika',
    family_name: 'Mustermann',
    birth_date: new DateOnly('1984-01-26'),
    age_over_18: true,
    age_over_21: true,
  };
  switch (doctype) {
    case 'eu.europa.ec.eudi.pid.1':
      return { ...person, nationality: ['NL'], email_address: 'erika@example.org', issuing_country: 'NL' };
    case 'org.iso.18013.5.1.mDL':
      return { ...person, document_number: 'NL-D-1234567', issuing_country: 'NL', nationality: 'NL' };
    case 'eu.europa.ec.av.1':
      return { age_over_18: true };
  }
}

// @owf/mdoc leaves its cryptography to the caller: this is node:crypto's.
// Only what issuing and presenting with a signature need is here.
const jwkOf = (key: CoseKey, withPrivate: boolean): crypto.JsonWebKey => {
  const jwk = key.jwk as Record<string, string>;
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, ...(withPrivate ? { d: jwk.d } : {}) };
};

const unsupported = () => {
  throw new Error('not used by this wallet (it signs, never MACs)');
};

export const nodeMdocContext: Pick<MdocContext, 'crypto' | 'cose'> = {
  crypto: {
    random: (length) => new Uint8Array(crypto.randomBytes(length)),
    digest: ({ digestAlgorithm, bytes }) =>
      new Uint8Array(crypto.createHash(digestAlgorithm.replace('-', '').toLowerCase()).update(bytes).digest()),
    calculateEphemeralMacKey: unsupported,
  },
  cose: {
    sign1: {
      sign: ({ toBeSigned, key }) => {
        const privateKey = crypto.createPrivateKey({ key: jwkOf(key, true), format: 'jwk' });
        // COSE wants r||s, not DER.
        return new Uint8Array(crypto.sign('sha256', toBeSigned, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      },
      verify: ({ key, sign1 }) => {
        const publicKey = crypto.createPublicKey({ key: jwkOf(key, false), format: 'jwk' });
        return crypto.verify('sha256', sign1.toBeSigned, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sign1.signature);
      },
    },
    mac0: { sign: unsupported, verify: unsupported },
  },
};

/** What a wallet reads from a request object it has verified. */
export interface VerifiedRequest {
  clientId: string;
  nonce: string;
  state: string;
  responseUri: string;
  dcqlQuery: DcqlQuery;
  /** The verifier's response-encryption key. */
  encryptionJwk: jose.JWK & { kid?: string };
  enc: string;
}

interface DcqlClaim {
  id?: string;
  path: (string | number | null)[];
}

export interface DcqlCredential {
  id: string;
  format: string;
  meta?: { doctype_value?: string; vct_values?: string[] };
  claims?: DcqlClaim[];
}

interface DcqlQuery {
  credentials: DcqlCredential[];
}

/** The wallet link of MyPage (`openid4vp://?client_id=…&request_uri=…`) or
 *  the request URI itself. */
function requestUriOf(link: string): { requestUri: string; clientId?: string } {
  if (!link.startsWith('openid4vp:')) return { requestUri: link };
  const params = new URL(link).searchParams;
  const requestUri = params.get('request_uri');
  if (!requestUri) throw new Error('the wallet link has no request_uri');
  return { requestUri, clientId: params.get('client_id') ?? undefined };
}

/** Fetches the request object and checks it as a wallet must before trusting
 *  any of it: ES256, its type, signed by the key of its x5c leaf, and a
 *  client_id that is that leaf's x509_hash. */
export async function fetchRequest(link: string): Promise<VerifiedRequest> {
  const { requestUri, clientId: linkClientId } = requestUriOf(link);
  const res = await fetch(requestUri);
  if (res.status !== 200) throw new Error(`request object: HTTP ${res.status}`);
  const contentType = res.headers.get('content-type') ?? '';
  if (!contentType.startsWith('application/oauth-authz-req+jwt')) {
    throw new Error(`request object: content type ${contentType}`);
  }
  const jwt = await res.text();

  const header = jose.decodeProtectedHeader(jwt);
  if (header.alg !== 'ES256') throw new Error(`request object: alg ${header.alg}`);
  if (header.typ !== 'oauth-authz-req+jwt') throw new Error(`request object: typ ${header.typ}`);
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) throw new Error('request object: no x5c');
  const leafDer = Buffer.from(header.x5c[0], 'base64');
  const leafPem = `-----BEGIN CERTIFICATE-----\n${leafDer.toString('base64')}\n-----END CERTIFICATE-----`;
  const leafKey = await jose.importX509(leafPem, 'ES256');
  const { payload } = await jose.jwtVerify(jwt, leafKey, {
    algorithms: ['ES256'],
    typ: 'oauth-authz-req+jwt',
    audience: 'https://self-issued.me/v2',
  });

  const expectedClientId = `x509_hash:${crypto.createHash('sha256').update(leafDer).digest('base64url')}`;
  if (payload.client_id !== expectedClientId) throw new Error(`request object: client_id ${payload.client_id} is not ${expectedClientId}`);
  if (linkClientId !== undefined && linkClientId !== payload.client_id) throw new Error('request object: client_id differs from the link');
  if (payload.response_type !== 'vp_token') throw new Error(`request object: response_type ${payload.response_type}`);
  if (payload.response_mode !== 'direct_post.jwt') throw new Error(`request object: response_mode ${payload.response_mode}`);

  const str = (name: string): string => {
    const v = payload[name];
    if (typeof v !== 'string' || v === '') throw new Error(`request object: no ${name}`);
    return v;
  };
  const metadata = payload.client_metadata as {
    jwks?: { keys?: (jose.JWK & { kid?: string })[] };
    encrypted_response_enc_values_supported?: string[];
  };
  const encryptionJwk = metadata?.jwks?.keys?.[0];
  if (!encryptionJwk) throw new Error('request object: no response encryption key');
  return {
    clientId: str('client_id'),
    nonce: str('nonce'),
    state: str('state'),
    responseUri: str('response_uri'),
    dcqlQuery: payload.dcql_query as DcqlQuery,
    encryptionJwk,
    enc: metadata.encrypted_response_enc_values_supported?.[0] ?? 'A128GCM',
  };
}

/** The DCQL credential query that asks for an mdoc of this doctype. */
export function mdocQuery(request: VerifiedRequest, doctype: MdocDoctype): DcqlCredential {
  const query = request.dcqlQuery.credentials.find(
    (c) => c.format === 'mso_mdoc' && c.meta?.doctype_value === doctype,
  );
  if (!query) throw new Error(`the request offers no ${doctype} (queries: ${request.dcqlQuery.credentials.map((c) => c.id)})`);
  return query;
}

/** OpenID4VP 1.0 B.2.6.1's `jwkThumbprint`: the RFC 7638 SHA-256 thumbprint
 *  of the verifier's response-encryption key, as bytes. */
export async function jwkThumbprintBytes(jwk: jose.JWK): Promise<Uint8Array> {
  return new Uint8Array(Buffer.from(await jose.calculateJwkThumbprint(jwk, 'sha256'), 'base64url'));
}

/** A document signer: its key and certificate as the issuer signs with them. */
function documentSigner(pki: IssuerPki): { key: CoseKey; certificate: Uint8Array } {
  const jwk = crypto.createPrivateKey(fs.readFileSync(pki.dsKey)).export({ format: 'jwk' });
  const certificate = new Uint8Array(new crypto.X509Certificate(fs.readFileSync(pki.dsCert)).raw);
  return { key: CoseKey.fromJwk({ ...jwk, alg: 'ES256' }), certificate };
}

export interface MdocOptions {
  doctype: MdocDoctype;
  /** Whose document signer issues the credential. */
  issuer: IssuerPki;
  /** Elements to change or add in what is issued (`age_over_18: false`, …). */
  elements?: Record<string, unknown>;
}

/** Issues an mdoc for a fresh device key with @owf/mdoc's Issuer. */
export async function issueMdoc(options: MdocOptions) {
  const device = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const devicePrivate = device.privateKey.export({ format: 'jwk' });
  const devicePublic = device.publicKey.export({ format: 'jwk' });
  const signer = documentSigner(options.issuer);
  const now = Date.now();
  const issuer = new Issuer(options.doctype, nodeMdocContext);
  issuer.addIssuerNamespace(NAMESPACE[options.doctype], { ...issuedElements(options.doctype), ...options.elements });
  const issuerSigned = await issuer.sign({
    signingKey: signer.key,
    algorithm: SignatureAlgorithm.ES256,
    digestAlgorithm: 'SHA-256',
    validityInfo: {
      signed: new Date(now),
      validFrom: new Date(now - 60_000),
      validUntil: new Date(now + 24 * 3600_000),
    },
    deviceKeyInfo: { deviceKey: DeviceKey.fromJwk(devicePublic as Record<string, unknown>) },
    certificates: [signer.certificate],
  });
  return { issuerSigned, deviceKey: CoseKey.fromJwk({ ...devicePrivate, alg: 'ES256' }) };
}

/** The mdoc presentation for one DCQL query: a DeviceResponse disclosing
 *  exactly the claims asked, device-signed over the OpenID4VP 1.0 redirect
 *  SessionTranscript that @owf/mdoc builds. */
export async function presentMdocFor(request: VerifiedRequest, query: DcqlCredential, options: MdocOptions) {
  const { issuerSigned, deviceKey } = await issueMdoc(options);
  // DCQL asks [namespace, element]; ISO's DeviceRequest says the same as a map.
  const namespaces: Record<string, Record<string, boolean>> = {};
  for (const claim of query.claims ?? []) {
    const [namespace, element] = claim.path;
    if (typeof namespace !== 'string' || typeof element !== 'string') throw new Error(`claim path ${claim.path}`);
    (namespaces[namespace] ??= {})[element] = false;
  }
  const deviceRequest = DeviceRequest.create({
    docRequests: [DocRequest.create({ itemsRequest: ItemsRequest.create({ docType: options.doctype, namespaces }) })],
  });
  const sessionTranscript = await SessionTranscript.forOid4Vp(
    {
      clientId: request.clientId,
      nonce: request.nonce,
      jwkThumbprint: await jwkThumbprintBytes(request.encryptionJwk),
      responseUri: request.responseUri,
    },
    nodeMdocContext,
  );
  const deviceResponse = await Holder.createDeviceResponseForDeviceRequest(
    { deviceRequest, sessionTranscript, issuerSigned: [issuerSigned], signature: { signingKey: deviceKey } },
    nodeMdocContext,
  );
  return { deviceResponse, sessionTranscript };
}

/** What the verifier answered to the posted response. */
export interface WalletAnswer {
  status: number;
  body: any;
  request: VerifiedRequest;
}

/** Encrypts `{vp_token, state}` (or an error) to the verifier's key as a
 *  compact JWE and posts it as `response` to the response URI. */
export async function postResponse(request: VerifiedRequest, answer: Record<string, unknown>): Promise<WalletAnswer> {
  const key = await jose.importJWK(request.encryptionJwk, 'ECDH-ES');
  const plaintext = new TextEncoder().encode(JSON.stringify({ ...answer, state: request.state }));
  const jwe = await new jose.CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: 'ECDH-ES', enc: request.enc, ...(request.encryptionJwk.kid ? { kid: request.encryptionJwk.kid } : {}) })
    .encrypt(key);
  const res = await fetch(request.responseUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ response: jwe }).toString(),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the test's message.
  }
  return { status: res.status, body, request };
}

/** The whole journey with an mdoc: request, presentation, answer. */
export async function presentMdoc(link: string, options: MdocOptions): Promise<WalletAnswer> {
  const request = await fetchRequest(link);
  const query = mdocQuery(request, options.doctype);
  const { deviceResponse } = await presentMdocFor(request, query, options);
  return postResponse(request, { vp_token: { [query.id]: [deviceResponse.encodedForOid4Vp] } });
}

// SD-JWT VC (the PID as dc+sd-jwt), made with `jose` and node:crypto only:
// an issuer-signed JWT whose claims are salted disclosures, and a key-binding
// JWT over the presentation as sent.

/** What the PID holds, by claim path; any requested subset is disclosed. */
const PID_CLAIMS: { path: string[]; value: unknown }[] = [
  { path: ['given_name'], value: 'Erika' },
  { path: ['family_name'], value: 'Mustermann' },
  { path: ['birthdate'], value: '1984-01-26' },
  { path: ['nationalities'], value: ['NL'] },
  { path: ['email'], value: 'erika@example.org' },
  { path: ['age_equal_or_over', '18'], value: true },
  { path: ['age_equal_or_over', '21'], value: true },
];

const sha256url = (s: string) => crypto.createHash('sha256').update(s, 'ascii').digest('base64url');

/** The DCQL credential query that asks for the PID as SD-JWT VC. */
export function sdJwtQuery(request: VerifiedRequest): DcqlCredential {
  const query = request.dcqlQuery.credentials.find((c) => c.format === 'dc+sd-jwt');
  if (!query) throw new Error(`the request offers no dc+sd-jwt (queries: ${request.dcqlQuery.credentials.map((c) => c.id)})`);
  return query;
}

export interface SdJwtOptions {
  issuer: IssuerPki;
  /** Claim values to change (`{'age_equal_or_over.18': false}`), by dotted path. */
  claims?: Record<string, unknown>;
}

/** Issues an SD-JWT PID for a fresh holder key and presents the claims the
 *  query asks for, bound to this request's nonce and client_id. */
export async function presentSdJwtFor(request: VerifiedRequest, query: DcqlCredential, options: SdJwtOptions): Promise<string> {
  const holder = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dsKey = crypto.createPrivateKey(fs.readFileSync(options.issuer.dsKey));
  const dsDer = new crypto.X509Certificate(fs.readFileSync(options.issuer.dsCert)).raw;
  const vct = query.meta?.vct_values?.[0];
  if (!vct) throw new Error('the SD-JWT query names no vct');

  // Every claim is its own disclosure; nested ones sit in a plain object's _sd.
  const disclosures = new Map<string, string>();
  const payload: Record<string, any> = { _sd: [] as string[] };
  for (const { path, value } of PID_CLAIMS) {
    const key = path.join('.');
    const name = path[path.length - 1];
    const disclosure = Buffer.from(
      JSON.stringify([crypto.randomBytes(16).toString('base64url'), name, options.claims?.[key] ?? value]),
    ).toString('base64url');
    disclosures.set(key, disclosure);
    let container = payload;
    for (const parent of path.slice(0, -1)) container = container[parent] ??= { _sd: [] as string[] };
    container._sd.push(sha256url(disclosure));
  }
  // Digests in order of their value, so their order says nothing of the claims.
  const sortDigests = (o: Record<string, any>) => {
    for (const v of Object.values(o)) if (v && typeof v === 'object' && Array.isArray(v._sd)) sortDigests(v);
    o._sd.sort();
  };
  sortDigests(payload);

  const now = Math.floor(Date.now() / 1000);
  const issuerJwt = await new jose.SignJWT({
    ...payload,
    vct,
    _sd_alg: 'sha-256',
    cnf: { jwk: holder.publicKey.export({ format: 'jwk' }) },
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dc+sd-jwt', x5c: [dsDer.toString('base64')] })
    .setIssuer('https://issuer.e2e.example')
    .setIssuedAt(now - 60)
    .setNotBefore(now - 60)
    .setExpirationTime(now + 24 * 3600)
    .sign(dsKey);

  const chosen = (query.claims ?? []).map((claim) => {
    const disclosure = disclosures.get(claim.path.join('.'));
    if (!disclosure) throw new Error(`the PID holds no ${claim.path}`);
    return disclosure;
  });
  const presented = `${issuerJwt}~${chosen.map((d) => `${d}~`).join('')}`;
  const kbJwt = await new jose.SignJWT({ nonce: request.nonce, sd_hash: sha256url(presented) })
    .setProtectedHeader({ alg: 'ES256', typ: 'kb+jwt' })
    .setAudience(request.clientId)
    .setIssuedAt(now)
    .sign(holder.privateKey);
  return presented + kbJwt;
}

/** The whole journey with the PID as SD-JWT VC. */
export async function presentSdJwt(link: string, options: SdJwtOptions): Promise<WalletAnswer> {
  const request = await fetchRequest(link);
  const query = sdJwtQuery(request);
  const presentation = await presentSdJwtFor(request, query, options);
  return postResponse(request, { vp_token: { [query.id]: [presentation] } });
}
