// Where everything runs, shared by the config, the global setup and the tests.
//
// The runner and every worker load this module. The first (the runner) picks
// Proofme's port and a fresh run folder and puts them in the environment;
// workers inherit that environment, so all agree on one server and one
// database. The shop's port is chosen by the global setup (any free one unless
// E2E_SHOP_PORT says), which sets E2E_SHOP_PORT before any worker starts.
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

/** The environment of the server and of the admin commands: one database. */
export const serverEnv: Record<string, string> = {
  DATABASE_URL: `sqlite://${path.join(runDir, 'e2e.db')}`,
  PROOFME_ADDR: `127.0.0.1:${port}`,
  PROOFME_PUBLIC_URL: baseURL,
  PROOFME_ALLOW_PRIVATE_WEBHOOKS: 'true',
  PROOFME_RATE_LIMIT: '0',
  PROOFME_WEBHOOK_RETRY_SCHEDULE: '1,1,1',
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
  /** The organisation's dashboard user. */
  dashboard: { email: string; password: string };
}

export function readFixtures(): Fixtures {
  return JSON.parse(fs.readFileSync(fixturesFile, 'utf8')) as Fixtures;
}
