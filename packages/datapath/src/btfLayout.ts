// Struct layouts as the compiler laid them out, read from an object's BTF.
import { addon, type NativeStructLayout } from './addon.ts';

export type BtfStructLayout = NativeStructLayout;

export function btfStructLayout(objectPath: string, structName: string): BtfStructLayout {
  return addon.btfStructLayout(objectPath, structName);
}
