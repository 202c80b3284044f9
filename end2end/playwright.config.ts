import { defineConfig, devices } from '@playwright/test';
import { baseURL, binary, serverEnv } from './support/env';

// Chromium from the distribution, as root, on a machine with no way out: no
// sandbox, and none of the background traffic Chromium starts on its own.
const launchOptions = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

// A common laptop screen: what fits in 1280×900 is "the first screen".
const desktop = {
  ...devices['Desktop Chrome'],
  viewport: { width: 1280, height: 900 },
  channel: undefined,
  launchOptions,
};

// A small phone, emulated in Chromium (not a WebKit device).
const phone = {
  browserName: 'chromium' as const,
  viewport: { width: 360, height: 740 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
  launchOptions,
};

// Journeys tagged @needs-js only make sense with the script running (Server-Sent
// Events); those tagged @no-js are the same need met by the page alone.
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results/artifacts',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  workers: 2,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: 'list',
  globalSetup: './global-setup.ts',
  use: {
    baseURL,
    locale: 'en-US',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'desktop-js',
      use: { ...desktop, javaScriptEnabled: true },
      grepInvert: /@no-js/,
    },
    {
      name: 'desktop-nojs',
      use: { ...desktop, javaScriptEnabled: false },
      grepInvert: /@needs-js/,
    },
    {
      name: 'phone-js',
      use: { ...phone, javaScriptEnabled: true },
      grepInvert: /@no-js/,
    },
    {
      name: 'phone-nojs',
      use: { ...phone, javaScriptEnabled: false },
      grepInvert: /@needs-js/,
    },
  ],
  webServer: {
    command: `"${binary}" serve --no-demo`,
    url: `${baseURL}/healthz`,
    env: serverEnv,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  },
});
