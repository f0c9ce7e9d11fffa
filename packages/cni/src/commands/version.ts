// VERSION: which spec versions tycho-cni speaks. stdin may be empty or `{"cniVersion": "…"}`.
import { CniError, CniErrorCode } from '../cniError.ts';
import { currentCniVersion, supportedCniVersions } from '../cniVersion.ts';

export interface VersionResult {
  cniVersion: string;
  supportedVersions: string[];
}

export function versionCommand(stdin: string): VersionResult {
  let requested: unknown = currentCniVersion;
  if (stdin.trim() !== '') {
    try {
      requested = (JSON.parse(stdin) as { cniVersion?: unknown } | null)?.cniVersion ?? currentCniVersion;
    } catch (error) {
      throw new CniError(CniErrorCode.decodingFailure, 'VERSION input on stdin is not JSON', `${(error as Error).message}; expected {"cniVersion":"1.0.0"} or nothing`);
    }
  }
  return { cniVersion: typeof requested === 'string' ? requested : currentCniVersion, supportedVersions: [...supportedCniVersions] };
}
