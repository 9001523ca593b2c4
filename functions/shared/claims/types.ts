/**
 * Types of the canonical claim set ("fb-1") and of the pre-token-generation events as Cognito really
 * sends them. `@types/aws-lambda` is narrower than the service in three places (see
 * docs/claims.md): claim values are typed as strings even for V2/V3, the response fields are not
 * nullable, and the V3 event lists only the client-credentials source. The wider types live here.
 */
import type {
  GroupOverrideDetails,
  GroupOverrideDetailsV2,
  PreTokenGenerationTriggerEvent,
  PreTokenGenerationV2TriggerEvent,
  PreTokenGenerationV3TriggerEvent,
} from 'aws-lambda';

/** Version of the claim contract, emitted as `claims_schema`. Bump on any breaking change. */
export const claimsSchemaVersion = 'fb-1';

/**
 * The value of a claim that feeds a principal tag when there is nothing to say (no assurance level,
 * no verified affiliation). Every such claim is always present, so the identity pool always has a
 * tag value and IAM conditions decide deterministically (docs/claims.md, "Principal tags").
 */
export const noTagValue = 'none';

export const idps = ['idme', 'idura'] as const;
export type Idp = (typeof idps)[number];

export type Ial = 'IAL1' | 'IAL2' | 'IAL3';
export type Aal = 'AAL1' | 'AAL2' | 'AAL3';
/** eIDAS level of assurance (Regulation (EU) 910/2014, art. 8). */
export type Loa = 'low' | 'substantial' | 'high';

/**
 * How sure the upstream provider is of the person: NIST 800-63-3 levels (ID.me) or eIDAS (Idura).
 * A type alias, not an interface, so that it fits the index signature of a claim value.
 */
export type Assurance = {
  ial?: Ial;
  aal?: Aal;
  loa?: Loa;
  /** The upstream value the levels were read from (Idura `authenticationtype`, ID.me `credential_ial`). */
  source_acr?: string;
};

/**
 * The canonical claim set added to the ID token of a federated user. Optional claims are omitted
 * (never empty or null) when the provider did not assert them or the value did not survive checks.
 */
export interface CanonicalClaims {
  idp: Idp;
  idp_env: string;
  idp_sub?: string;
  given_name?: string;
  family_name?: string;
  middle_name?: string;
  name?: string;
  birthdate?: string;
  email?: string;
  email_verified?: boolean;
  country?: string;
  eid_scheme?: string;
  assurance?: Assurance;
  /**
   * Flat companion of `assurance` for principal tags: `assurance.ial` (ID.me) or `assurance.loa`
   * (Idura), else `"none"`. Always present: it feeds a principal tag.
   */
  assurance_level: string;
  affiliations?: string[];
  /**
   * Flat companion of `affiliations` for principal tags: sorted, space-separated, at most 256 chars,
   * else `"none"`. Always present: it feeds a principal tag.
   */
  affiliation_tags: string;
  claims_schema: typeof claimsSchemaVersion;
}

export type ClaimName = keyof CanonicalClaims;

/** Every canonical claim (schema fb-1), in the order tokens and golden files carry them. */
export const canonicalClaimNames: readonly ClaimName[] = [
  'idp',
  'idp_env',
  'idp_sub',
  'given_name',
  'middle_name',
  'family_name',
  'name',
  'birthdate',
  'email',
  'email_verified',
  'country',
  'eid_scheme',
  'assurance',
  'assurance_level',
  'affiliations',
  'affiliation_tags',
  'claims_schema',
];

/** What a normalizer produced, and which claims it had input for but rejected (names only, for the log). */
export interface Normalized {
  claims: CanonicalClaims;
  rejected: ClaimName[];
}

/** Where the identity comes from, resolved from `identities` and the provider table. */
export interface Origin {
  /** Cognito provider name, e.g. `IDmeSandbox`. */
  providerName: string;
  idp: Idp;
  env: string;
  /** `identities[primary].userId`, the upstream `sub`. */
  userId: string | undefined;
}

export interface NormalizeOptions {
  /** Today, for rejecting birthdates in the future. */
  now: Date;
}

/** User-pool attributes as the trigger receives them: strings, but odd input is not excluded. */
export type UserAttributes = Readonly<Record<string, unknown>>;

type JsonScalar = string | number | boolean;
export type ClaimValue = JsonScalar | JsonScalar[] | { [key: string]: JsonScalar | JsonScalar[] | undefined };
export type Claims = Record<string, ClaimValue>;

export interface GroupConfiguration {
  groupsToOverride?: string[];
  iamRolesToOverride?: string[];
  preferredRole?: string;
}

/** V1 response body. */
export interface ClaimsOverrideDetails {
  claimsToAddOrOverride?: Record<string, string>;
  claimsToSuppress?: string[];
  groupOverrideDetails?: GroupOverrideDetails;
}

/** V2/V3 response body, with the typed claim values the service accepts. */
export interface ClaimsAndScopeOverrideDetails {
  idTokenGeneration?: { claimsToAddOrOverride?: Claims; claimsToSuppress?: string[] };
  accessTokenGeneration?: {
    claimsToAddOrOverride?: Claims;
    claimsToSuppress?: string[];
    scopesToAdd?: string[];
    scopesToSuppress?: string[];
  };
  groupOverrideDetails?: GroupOverrideDetailsV2;
}

export const userTriggerSources = [
  'TokenGeneration_HostedAuth',
  'TokenGeneration_Authentication',
  'TokenGeneration_NewPasswordChallenge',
  'TokenGeneration_AuthenticateDevice',
  'TokenGeneration_RefreshTokens',
] as const;
export const clientCredentialsSource = 'TokenGeneration_ClientCredentials';
type TriggerSource = (typeof userTriggerSources)[number] | typeof clientCredentialsSource;

type AnyTypedEvent =
  | PreTokenGenerationTriggerEvent
  | PreTokenGenerationV2TriggerEvent
  | PreTokenGenerationV3TriggerEvent;

/**
 * A pre-token-generation event of any version, as Cognito sends it: `response` fields arrive as
 * `null`, a V3 function also receives the user sources, and `preferredRole` may be `null`.
 */
export interface PreTokenEvent extends Omit<AnyTypedEvent, 'triggerSource' | 'request' | 'response'> {
  triggerSource: TriggerSource;
  request: {
    userAttributes?: Record<string, string>;
    groupConfiguration?:
      | (Omit<GroupOverrideDetailsV2, 'preferredRole'> & { preferredRole?: string | null })
      | null;
    scopes?: string[];
    clientMetadata?: Record<string, string>;
  };
  response: {
    claimsOverrideDetails?: ClaimsOverrideDetails | null;
    claimsAndScopeOverrideDetails?: ClaimsAndScopeOverrideDetails | null;
  };
}
