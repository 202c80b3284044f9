// Before any test: make the integrator (organisation, keys, proofme) in the
// database the server uses, and start the integrator's shop. The webServer is
// already up by now (Playwright starts it before the global setup).
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { binary, baseURL, fixturesFile, runDir, serverEnv, shopPort, type Fixtures } from './support/env';
import { startShop } from './support/shop';

/** `input` is what the command reads on stdin (a password), if anything. */
function admin(args: string[], input?: string): Record<string, string> {
  const out = execFileSync(binary, ['admin', ...args], {
    env: { ...process.env, ...serverEnv },
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'],
  });
  return JSON.parse(out);
}

export default async function globalSetup() {
  const org = admin(['create-organisation', '--name', 'E2E Shop']);
  const testKey = admin(['create-api-key', '--organisation', org.id, '--mode', 'test']);
  const liveKey = admin(['create-api-key', '--organisation', org.id, '--mode', 'live']);
  const proofme = admin([
    'create-proofme',
    '--organisation', org.id,
    '--name', 'Age check',
    '--purpose', 'AGE_VERIFICATION',
    '--credential', 'EPASS:OLDER_THAN_18',
    '--credential', 'EMAIL:EMAIL:optional',
  ]);
  // The longest request a customer meets: nine credentials, two of them optional.
  const nine = admin([
    'create-proofme',
    '--organisation', org.id,
    '--name', 'Full KYC',
    '--purpose', 'KYC_VERIFICATION',
    '--credential', 'EPASS:OLDER_THAN_18',
    '--credential', 'EPASS:FIRST_NAME',
    '--credential', 'EPASS:LAST_NAME',
    '--credential', 'EPASS:DATE_OF_BIRTH',
    '--credential', 'EPASS:NATIONALITY',
    '--credential', 'EPASS:DOCUMENT_NUMBER',
    '--credential', 'EPASS:PHOTO',
    '--credential', 'EMAIL:EMAIL:optional',
    '--credential', 'PHONE:PHONE_NUMBER:optional',
  ]);
  // Over-18 alone: the EU age attestation and the mDL can answer it too.
  const ageOnly = admin([
    'create-proofme',
    '--organisation', org.id,
    '--name', 'Age only',
    '--purpose', 'AGE_VERIFICATION',
    '--credential', 'EPASS:OLDER_THAN_18',
  ]);
  // Someone of the organisation who signs in to the dashboard.
  const dashboard = { email: 'owner@e2e-shop.example', password: crypto.randomBytes(18).toString('base64url') };
  admin(['create-user', '--organisation', org.id, '--email', dashboard.email], `${dashboard.password}\n`);
  const fixtures: Fixtures = {
    organisation: { id: org.id, name: org.name, webhookSecret: org.webhookSecret },
    testKey: testKey.key,
    liveKey: liveKey.key,
    proofmeId: proofme.id,
    nineCredentialProofmeId: nine.id,
    ageOnlyProofmeId: ageOnly.id,
    dashboard,
  };
  fs.writeFileSync(fixturesFile, JSON.stringify(fixtures, null, 2));

  const shop = await startShop({
    port: shopPort,
    proofmeURL: baseURL,
    // The shop reads live identifications too, which a test key cannot see.
    apiKey: fixtures.liveKey,
    webhookSecret: fixtures.organisation.webhookSecret,
  });

  const address = shop.address();
  if (address === null || typeof address === 'string') throw new Error('shop has no port');
  // Workers start after this and inherit the environment.
  process.env.E2E_SHOP_PORT = String(address.port);

  return async () => {
    shop.closeAllConnections();
    await new Promise<void>((resolve) => shop.close(() => resolve()));
    if (!process.env.E2E_KEEP_RUN_DIR) fs.rmSync(runDir, { recursive: true, force: true });
  };
}
