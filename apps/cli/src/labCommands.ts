/** What `@tycho/lab` provides to the CLI. */
export interface LabApi {
  labUp(opts: { manifests?: string[]; detach?: boolean }): Promise<void>;
  labDown(): Promise<void>;
  labStatus(): Promise<string>;
  connectivityTest(opts: { namespace?: string; timeoutMs?: number }): Promise<{ passed: boolean; text: string }>;
}

/** Loads the lab only for `tycho lab …`, so `tycho observe` does not pay for it. */
export async function loadLab(): Promise<LabApi> {
  const lab: LabApi = await import('@tycho/lab');
  return lab;
}
