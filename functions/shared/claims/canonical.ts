/**
 * The one entry point for claim normalisation: which provider, then that provider's normalizer.
 */
import { normalizeIdmeClaims } from './idme.ts';
import { normalizeIduraClaims } from './idura.ts';
import { detectProvider, type ProviderTable } from './providers.ts';
import type { Idp, Normalized, NormalizeOptions, Origin, UserAttributes } from './types.ts';

export type Outcome =
  | ({ decision: 'normalized'; origin: Origin } & Normalized)
  | { decision: 'not-federated' }
  | { decision: 'unknown-provider' };

const normalizers: Readonly<
  Record<Idp, (attributes: UserAttributes, origin: Origin, options: NormalizeOptions) => Normalized>
> = {
  idme: normalizeIdmeClaims,
  idura: normalizeIduraClaims,
};

/**
 * Canonical claims for a user, or why there are none. Pure and deterministic: a refresh with the
 * same stored attributes gives the same claims as the sign-in did.
 *
 * @example canonicalClaimsFor(event.request.userAttributes, providers, { now: new Date() })
 */
export function canonicalClaimsFor(
  attributes: UserAttributes,
  providers: ProviderTable,
  options: NormalizeOptions,
): Outcome {
  const detection = detectProvider(attributes, providers);
  if (detection.kind !== 'federated') return { decision: detection.kind };
  const { origin } = detection;
  return { decision: 'normalized', origin, ...normalizers[origin.idp](attributes, origin, options) };
}
