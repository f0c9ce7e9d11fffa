import { expect, test, type Page, type TestInfo } from '@playwright/test';

/*
 * Which policy allowed or denied the traffic, beyond Hubble UI
 * (cilium/hubble-ui#931): the lab applies the connectivity check's
 * CiliumNetworkPolicies, pod-to-a-l3-denied-cnp's requests to echo-a are
 * dropped by its egress policy, and pod-to-a-allowed-cnp is selected by its own.
 * Selections go through the URL, so the test does not depend on where the
 * map places the cards.
 */

const DENIED_LINK = 'default/pod-to-a-l3-denied-cnp|TCP|default/echo-a|8080';

async function keepScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
}

test('the pod-to-a-l3-denied-cnp → echo-a link is dropped with POLICY_DENIED by pod-to-a-l3-denied-cnp', async ({ page }, testInfo) => {
  await page.goto(`/?namespace=default&link=${encodeURIComponent(DENIED_LINK)}`);
  // A newly started lab adds cards and links a few at a time: the panel opens once the link is in the map.
  const panel = page.getByTestId('link-panel');
  await expect(panel).toBeVisible({ timeout: 90_000 });
  await expect(panel.getByRole('heading', { name: 'pod-to-a-l3-denied-cnp → echo-a:8080/TCP' })).toBeVisible();
  await expect(panel.locator('dd.verdict-dropped')).toHaveText('dropped');
  await expect(panel.getByTestId('link-drop-reasons')).toContainText('POLICY_DENIED');
  await expect(panel.getByTestId('link-policy').filter({ hasText: 'egress denied by default/pod-to-a-l3-denied-cnp' })).toHaveCount(1);
  await expect(panel.getByRole('heading')).toHaveAttribute('title', /dropped: POLICY_DENIED \d+[\s\S]*egress denied by default\/pod-to-a-l3-denied-cnp/);
  await expect(page.locator(`[data-testid="link"][data-link-id="${DENIED_LINK}"]`)).toHaveAttribute('data-verdict', 'dropped');

  // The flows table narrows to the link; its dropped flows name the policy in the Policy column.
  const dropped = page.locator('[data-testid="flow-row"][data-verdict="DROPPED"]');
  await expect(dropped.first().locator('[data-column="policy"]')).toHaveText('default/pod-to-a-l3-denied-cnp (egress denied)');
  await keepScreenshot(page, testInfo, 'denied-link-panel');

  await dropped.first().click();
  const detail = page.getByTestId('flow-detail');
  await expect(detail.getByTestId('flow-drop-reason')).toHaveText('POLICY_DENIED');
  await expect(detail.getByTestId('flow-denied-by')).toHaveText('egress: default/pod-to-a-l3-denied-cnp (CiliumNetworkPolicy)');
  await keepScreenshot(page, testInfo, 'denied-flow-detail');
});

test('the pod-to-a-allowed-cnp card panel lists the policy that selects it, enforcing egress', async ({ page }, testInfo) => {
  await page.goto(`/?namespace=default&card=${encodeURIComponent('default/pod-to-a-allowed-cnp')}`);
  const panel = page.getByTestId('card-panel');
  await expect(panel).toBeVisible({ timeout: 90_000 });
  const policies = panel.getByRole('region', { name: 'Policies' });
  await expect(policies.getByRole('heading')).toHaveText('Policies (1)');
  await expect(policies.getByTestId('card-policy')).toHaveText(['default/pod-to-a-allowed-cnpCiliumNetworkPolicydefault deny: egress']);

  // Its forwarded flows to echo-a name the allowing policy.
  const allowed = page.locator('[data-testid="flow-row"][data-verdict="FORWARDED"] [data-column="policy"]', { hasText: 'default/pod-to-a-allowed-cnp (egress allowed)' });
  await expect(allowed.first()).toBeVisible();
  await keepScreenshot(page, testInfo, 'allowed-card-panel');
});
