// Diagnostics for people reading the runtime's logs. stdout is reserved for the CNI result.

export function logDiagnostic(message: string): void {
  process.stderr.write(`tycho-cni: ${message}\n`);
}
