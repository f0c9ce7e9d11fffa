// CNI error results: the JSON object a failing plugin prints on stdout (CNI spec 1.0.0, section 5).

/**
 * Codes 1-11 are the spec's well-known codes; 0-99 are reserved by the spec, so Tycho's own
 * failures use 100 and up.
 */
export const CniErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  /** Every address of ipam.subnet is allocated. Not transient, so not 11: a pod must go first. */
  ipRangeExhausted: 100,
  /** An `ip`/`nsenter` step failed while creating or configuring the veth pair. */
  interfaceSetupFailed: 101,
  /** The node agent answered the endpoint registration with an error status. */
  agentRejected: 102,
  /** CHECK found the attachment different from what ADD created. */
  attachmentMismatch: 103,
} as const;

export type CniErrorCodeValue = (typeof CniErrorCode)[keyof typeof CniErrorCode];

export interface CniErrorResult {
  cniVersion: string;
  code: number;
  msg: string;
  details: string;
}

export class CniError extends Error {
  readonly code: CniErrorCodeValue;
  readonly msg: string;
  readonly details: string;

  /** `msg` is the short summary, `details` says where it went wrong and what was expected. */
  constructor(code: CniErrorCodeValue, msg: string, details = '') {
    super(details === '' ? msg : `${msg}: ${details}`);
    this.name = 'CniError';
    this.code = code;
    this.msg = msg;
    this.details = details;
  }

  toResult(cniVersion: string): CniErrorResult {
    return { cniVersion, code: this.code, msg: this.msg, details: this.details };
  }
}
