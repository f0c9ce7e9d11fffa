import { expect, test, type Page } from '@playwright/test';

/*
 * The Metrics view against the lab: the API counts the flows it relays, so
 * the lab's probes (HTTP GETs to echo-a and echo-b, DNS lookups through
 * kube-dns) show up as FORWARDED flows/s, NOERROR DNS responses and HTTP 200
 * responses with a latency, without Prometheus or Grafana.
 */

async function numberOf(page: Page, selector: string, attribute = 'data-value'): Promise<number> {
  const value = await page.locator(selector).first().getAttribute(attribute, { timeout: 5_000 }).catch(() => null);
  return value === null || value === '' ? 0 : Number(value);
}

test('the Metrics view shows live charts of the lab’s traffic, and switching the window refetches', async ({ page }, testInfo) => {
  await page.goto('/?namespace=default');
  await page.getByRole('tab', { name: 'Metrics' }).click();
  await expect(page).toHaveURL(/[?&]view=metrics\b/);
  await expect(page.getByTestId('metrics-view')).toBeVisible();

  // flows/s by verdict: FORWARDED above zero, drawn as a line with a point per step.
  await expect.poll(() => numberOf(page, '[data-testid="rate-legend"][data-verdict="FORWARDED"]')).toBeGreaterThan(0);
  await expect(page.locator('[data-testid="rate-series"][data-verdict="FORWARDED"] path.line')).toHaveAttribute('d', /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/);

  // DNS responses with NOERROR, HTTP 200 responses and a latency figure.
  await expect.poll(() => numberOf(page, '[data-testid="chart-dns"] [data-testid="bar"][data-label="NOERROR"]')).toBeGreaterThan(0);
  await expect.poll(() => numberOf(page, '[data-testid="chart-http"] [data-testid="bar"][data-label="200"]')).toBeGreaterThan(0);
  await expect.poll(() => numberOf(page, '[data-testid="latency-p50"]')).toBeGreaterThan(0);
  await expect(page.getByTestId('latency-p50')).toHaveText(/^\d+(\.\d+)?\s(µs|ms|s)$/);
  await expect(page.locator('[data-testid="chart-ports"] [data-testid="bar"][data-label="8080/TCP"]')).toBeVisible();
  await testInfo.attach('metrics-5m', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });

  // The numbers are refetched while the view is open.
  const updated = await page.getByTestId('metrics-updated').textContent();
  await expect(page.getByTestId('metrics-updated')).not.toHaveText(updated ?? '', { timeout: 20_000 });

  // Another window: a new request, an answer for that window, and the URL keeps it.
  const refetch = page.waitForResponse((response) => response.url().includes('/api/v1/metrics?window=15m'));
  await page.getByRole('radio', { name: '15m' }).check();
  expect((await refetch).status()).toBe(200);
  await expect(page.getByTestId('metrics-updated')).toHaveAttribute('data-window', '15m');
  await expect(page).toHaveURL(/[?&]window=15m\b/);
  await expect.poll(() => numberOf(page, '[data-testid="rate-legend"][data-verdict="FORWARDED"]')).toBeGreaterThan(0);

  // Dark theme, then back to the map with the keyboard.
  await page.getByTestId('theme-toggle').click();
  await testInfo.attach('metrics-15m-dark', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  await page.getByRole('tab', { name: 'Metrics' }).focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByRole('tab', { name: 'Service map' })).toHaveAttribute('aria-selected', 'true');
  await expect(page).not.toHaveURL(/view=metrics/);
  await expect(page.locator('[data-testid="card"][data-card-id="default/echo-a"]')).toBeVisible();
});

test('echo-a’s card and its panel list the HTTP endpoint the lab’s probes request', async ({ page }, testInfo) => {
  await page.goto('/?namespace=default');
  const echoA = page.locator('[data-testid="card"][data-card-id="default/echo-a"]');
  await expect(echoA.getByTestId('card-endpoints')).toContainText('GET /public');
  await echoA.click();
  const panel = page.getByTestId('card-panel');
  await expect(panel).toBeVisible();
  const endpoint = panel.getByTestId('http-endpoint').filter({ hasText: 'GET /public' });
  await expect(endpoint).toBeVisible();
  await expect(endpoint).toContainText(/\d+ req/);
  await expect(endpoint).toContainText(/2xx \d+/);
  // The probes ask for echo-a by its ClusterIP: the flows name the service, and the card carries it.
  await expect(panel.getByTestId('card-services')).toContainText('default/echo-a');
  await testInfo.attach('echo-a-http-endpoints', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
});
