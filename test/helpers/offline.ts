import { ephemeralConfig, type LocalConfig } from '../../local/config.ts';
import { type OfflineStack, type StackOptions, startOfflineStack } from '../../local/stack.ts';
import { freePort } from './web.ts';

/** The whole offline stack on free loopback ports. */
export async function startTestStack(
  overrides: Partial<LocalConfig> = {},
  options: StackOptions = {},
): Promise<OfflineStack> {
  return startOfflineStack(ephemeralConfig(await freePort(), overrides), { quiet: true, ...options });
}
