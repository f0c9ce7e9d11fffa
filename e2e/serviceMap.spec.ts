import { expect, test, type Page, type TestInfo } from '@playwright/test';

/*
 * The service map a user opens at :32321, drawn from the lab's live flows:
 * the connectivity-check workloads, their links, namespaces, and the
 * click-through from a card to its flows.
 */

const card = (page: Page, id: string) => page.locator(`[data-testid="card"][data-card-id="${id}"]`);

async function keepScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
}

test('the default namespace map shows echo-a, echo-b and the probes with a pod-to-a → echo-a:8080/TCP link', async ({ page }, testInfo) => {
  await page.goto('/?namespace=default');
  await expect(card(page, 'default/echo-a')).toBeVisible();
  await expect(card(page, 'default/echo-b')).toBeVisible();
  await expect(card(page, 'default/pod-to-a')).toBeVisible();
  await expect(card(page, 'default/pod-to-b-multi-node-clusterip')).toBeVisible();
  await expect(card(page, 'default/echo-a').getByTestId('card-port').filter({ hasText: '8080 · TCP' })).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'link pod-to-a → echo-a:8080/TCP' })).toHaveCount(1);
  await keepScreenshot(page, testInfo, 'default-namespace-map');
});

test('"All namespaces" shows kube-system with kube-dns as an island of its own', async ({ page }, testInfo) => {
  await page.goto('/?namespace=default');
  await expect(card(page, 'default/echo-a')).toBeVisible();
  await page.getByTestId('namespace-selector').selectOption('all');
  await expect(page.locator('[data-testid="island"][data-namespace="kube-system"]')).toBeVisible();
  await expect(page.locator('[data-testid="island"][data-namespace="default"]')).toBeVisible();
  await expect(page.getByRole('button', { name: 'card kube-dns in kube-system' })).toBeVisible();
  await keepScreenshot(page, testInfo, 'all-namespaces-map');
});

test('clicking echo-a narrows the flows table to echo-a, and a reload restores the selection', async ({ page }, testInfo) => {
  await page.goto('/?namespace=default');
  await card(page, 'default/echo-a').click();
  await expect(page.getByTestId('card-panel')).toBeVisible();
  await expect(page).toHaveURL(/card=default%2Fecho-a|card=default\/echo-a/);

  const rows = page.getByTestId('flow-row');
  await expect(rows.first()).toBeVisible();
  // Rows are read in one go: the table is live, and rows shift as flows arrive.
  const involvesEchoA = async () => {
    const texts = await rows.allInnerTexts();
    for (const text of texts) expect(text).toMatch(/default\/echo-a-/);
    return texts.length;
  };
  expect(await involvesEchoA()).toBeGreaterThan(0);
  await keepScreenshot(page, testInfo, 'echo-a-selected');

  await page.reload();
  await expect(page.getByTestId('card-panel')).toBeVisible();
  await expect(rows.first()).toBeVisible();
  expect(await involvesEchoA()).toBeGreaterThan(0);
  await keepScreenshot(page, testInfo, 'echo-a-selected-after-reload');
});

test.describe('in a 1280×720 window', () => {
  test.use({ viewport: { width: 1280, height: 720 } });

  test('"All namespaces" fits the map so that the card titles are legible HTML text', async ({ page }, testInfo) => {
    await page.goto('/');
    await expect(page.getByTestId('namespace-selector')).toHaveValue('all');
    const title = card(page, 'default/echo-a').getByTestId('card-title');
    await expect(title).toBeVisible();
    await expect(title).toBeInViewport();
    // Zoomed out past FAR_ZOOM the HTML cards turn transparent and the canvas draws them: the fit must stay above it.
    await expect(page.locator('.map-world')).not.toHaveClass(/\bfar\b/);
    // The title's font size on screen: its CSS size (14 px) times the scale of the map's transform.
    await expect(title).toHaveCSS('font-size', '14px');
    const mapScale = async () => Number(/scale\(([^)]+)\)/.exec((await page.locator('.map-world').getAttribute('style')) ?? '')?.[1]);
    await expect.poll(async () => 14 * (await mapScale())).toBeGreaterThanOrEqual(8);
    for (const id of ['default/pod-to-a', 'default/echo-b']) await expect(card(page, id).getByTestId('card-title')).toBeInViewport();
    await expect(page.getByRole('button', { name: 'card kube-dns in kube-system' }).getByTestId('card-title')).toBeInViewport();
    await keepScreenshot(page, testInfo, 'all-namespaces-fit-1280x720');
  });
});
