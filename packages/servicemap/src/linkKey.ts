import type { LinkProtocol } from './model.ts';

/**
 * The one function that builds a link's id: source card → protocol →
 * destination card:port. Card ids never contain `|`, so ids are unambiguous.
 */
export function linkKey(sourceCardId: string, protocol: LinkProtocol, destinationCardId: string, port: number): string {
  return `${sourceCardId}|${protocol}|${destinationCardId}|${port}`;
}
