import { timingSafeEqual } from 'node:crypto';

/** Constant-time string comparison (for state, nonce and other secrets). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  // Compare against itself on length mismatch so the time does not depend on where strings differ.
  return ab.length === bb.length ? timingSafeEqual(ab, bb) : !timingSafeEqual(ab, ab);
}
