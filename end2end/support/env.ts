// Where everything runs, shared by the config, the global setup and the tests.
//
// The runner and every worker load this module. The first (the runner) picks
// Proofme's port and a fresh run folder and puts them in the environment;
// workers inherit that environment, so all agree on one server and one
// database. The shop's port is chosen by the global setup (any free one unless
// E2E_SHOP_PORT says), which sets E2E_SHOP_PORT before any worker starts.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

process.env.E2E_PORT ??= '38417';
process.env.E2E_RUN_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'proofme-e2e-'));

export const port = Number(process.env.E2E_PORT);
/** 0 in the runner before the global setup: "any free port". */
export const shopPort = Number(process.env.E2E_SHOP_PORT ?? 0);
/** Proofme, as the browser and the shop reach it (loopback only). */
export const baseURL = `http://127.0.0.1:${port}`;
/** The integrator's web shop, served by the global setup (valid in tests). */
export const shopURL = `http://127.0.0.1:${shopPort}`;
export const runDir = process.env.E2E_RUN_DIR;
/** What the global setup created, for the tests to read. */
export const fixturesFile = path.join(runDir, 'fixtures.json');
/** The release binary: under CARGO_TARGET_DIR when set, as cargo builds it there. */
export const binary = path.join(
  process.env.CARGO_TARGET_DIR
    ? path.resolve(__dirname, '..', '..', process.env.CARGO_TARGET_DIR)
    : path.resolve(__dirname, '..', '..', 'target'),
  'release',
  'proofme',
);

/** A document signer and the IACA-style root above it, as PEM files. */
export interface IssuerPki {
  rootCert: string;
  dsCert: string;
  dsKey: string;
}

// The independent wallet's issuers, made with the openssl CLI so that none of
// Proofme's own certificate code is involved. The server must trust one of
// them before it starts, and the webServer starts before the global setup:
// so the runner makes them here, once per run folder (workers find them made).
const pkiConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[iaca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ds]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function makeIssuerPki(dir: string, name: string): IssuerPki {
  const pki = {
    rootCert: path.join(dir, 'root.pem'),
    dsCert: path.join(dir, 'ds.pem'),
    dsKey: path.join(dir, 'ds.key'),
  };
  if (fs.existsSync(pki.dsCert)) return pki;
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'pki.cnf');
  const rootKey = path.join(dir, 'root.key');
  const csr = path.join(dir, 'ds.csr');
  fs.writeFileSync(config, pkiConfig);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const p256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl('genpkey', ...p256, '-out', rootKey);
  openssl('req', '-x509', '-new', '-config', config, '-extensions', 'iaca', '-key', rootKey, '-sha256',
    '-days', '30', '-subj', `/C=NL/CN=${name} IACA`, '-out', pki.rootCert);
  openssl('genpkey', ...p256, '-out', pki.dsKey);
  openssl('req', '-new', '-config', config, '-key', pki.dsKey, '-subj', `/C=NL/CN=${name} DS`, '-out', csr);
  // The DS is written last: its presence means the whole set is there.
  openssl('x509', '-req', '-in', csr, '-CA', pki.rootCert, '-CAkey', rootKey, '-set_serial', '0x7' + Date.now().toString(16),
    '-days', '30', '-sha256', '-extfile', config, '-extensions', 'ds', '-out', pki.dsCert);
  return pki;
}

/** Trusted by the server (PROOFME_TRUSTED_ISSUERS) / known to nobody. */
export const independentIssuer = {
  trusted: makeIssuerPki(path.join(runDir, 'issuer-trusted'), 'E2E Independent'),
  untrusted: makeIssuerPki(path.join(runDir, 'issuer-untrusted'), 'E2E Unknown'),
};

/** The environment of the server and of the admin commands: one database. */
export const serverEnv: Record<string, string> = {
  DATABASE_URL: `sqlite://${path.join(runDir, 'e2e.db')}`,
  PROOFME_ADDR: `127.0.0.1:${port}`,
  PROOFME_PUBLIC_URL: baseURL,
  PROOFME_ALLOW_PRIVATE_WEBHOOKS: 'true',
  PROOFME_RATE_LIMIT: '0',
  PROOFME_WEBHOOK_RETRY_SCHEDULE: '1,1,1',
  PROOFME_TRUSTED_ISSUERS: independentIssuer.trusted.rootCert,
  RUST_LOG: process.env.RUST_LOG ?? 'warn',
};

/** The organisation, keys and proofme the global setup made. */
export interface Fixtures {
  organisation: { id: string; name: string; webhookSecret: string };
  testKey: string;
  liveKey: string;
  /** Over-18 and an optional email. */
  proofmeId: string;
  /** Nine credentials (two optional): the longest request. */
  nineCredentialProofmeId: string;
  /** Over-18 only: every mdoc type (the age attestation too) can answer it. */
  ageOnlyProofmeId: string;
  /** The organisation's dashboard user. */
  dashboard: { email: string; password: string };
}

export function readFixtures(): Fixtures {
  return JSON.parse(fs.readFileSync(fixturesFile, 'utf8')) as Fixtures;
}
