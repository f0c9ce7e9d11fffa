import { expect, test } from '@playwright/test';

/*
 * L7 visibility in the flows table: the lab's probes speak plaintext HTTP to
 * echo-a, and the agents turn the responses into L7 flows whose "L7 info"
 * cell shows the method, path, status and latency.
 */

/** `HTTP/1.1 200 GET /public · 3 ms`: status, method, path and a latency. */
const HTTP_PUBLIC_OK = /\b200 GET \/public\b.*·\s*\d+(\.\d+)?\s*(ns|µs|ms|s)\b/;

test('an L7 HTTP flow appears in the flows table with method, path, status and latency', async ({ page }, testInfo) => {
  await page.goto('/?namespace=default');
  await page.locator('[data-testid="card"][data-card-id="default/echo-a"]').click();
  await expect(page.getByTestId('card-panel')).toBeVisible();

  const rows = page.getByTestId('flow-row');
  const l7Cells = rows.locator('[data-column="l7"]');
  await expect(l7Cells.filter({ hasText: HTTP_PUBLIC_OK }).first()).toBeVisible();

  // Rows are read in one go: the table is live, and rows shift as flows arrive.
  const texts = await rows.allInnerTexts();
  const httpRows = texts.filter((text) => HTTP_PUBLIC_OK.test(text));
  expect(httpRows.length, `rows:\n${texts.join('\n')}`).toBeGreaterThan(0);
  for (const text of httpRows) {
    expect(text).toMatch(/default\/echo-a-/);
    expect(text).toMatch(/\bGET\b/);
    expect(text).toMatch(/\/public\b/);
    expect(text).toMatch(/\b200\b/);
  }

  await testInfo.attach('l7-http-flows', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
});
