import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests in Debian's Chromium against the lab that `npm start`
 * runs: global setup brings the lab up in the background (agents, API and
 * web app on :32321), global teardown takes it down.
 */
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results/e2e',
  globalSetup: './e2e/labSetup.ts',
  globalTeardown: './e2e/labTeardown.ts',
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 60_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'test-results/e2e-report' }]],
  use: {
    baseURL: 'http://localhost:32321',
    screenshot: 'on',
    trace: 'retain-on-failure',
    viewport: { width: 1440, height: 900 },
    launchOptions: {
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
    },
  },
});
