// The CNI specification versions tycho-cni speaks.

export const currentCniVersion = '1.0.0';

export const supportedCniVersions = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;

export type SupportedCniVersion = (typeof supportedCniVersions)[number];

export function isSupportedCniVersion(version: unknown): version is SupportedCniVersion {
  return typeof version === 'string' && (supportedCniVersions as readonly string[]).includes(version);
}
