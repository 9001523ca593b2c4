// Attribute mapping and the user directory of the user pool stand-in: how Cognito turns the claims of
// a federated sign-in into a user-pool profile
// (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-specifying-attribute-mapping.html).
//
// - The mapping comes from the template's identity provider (pool attribute → IdP claim).
// - Values are stored as strings; arrays and objects are JSON-serialised. (Cognito documents
//   URL-form-encoding for multi-valued SAML-style attributes; for JSON claims from OIDC the
//   serialised JSON is what reaches the trigger, as in the team's fixtures.)
// - A claim absent from this sign-in keeps the attribute's old value; Cognito never clears.
// - Mapping to an attribute missing from the schema, a required attribute left without a value,
//   a value too long, an attribute the app client may not write, or an immutable attribute on an
//   existing profile all fail the sign-in with Cognito's `Invalid user attributes: …` messages.

import { createHash } from 'node:crypto';
import type { AppClientTemplate, ProviderConfig, SchemaAttribute } from './pool-config.ts';

export interface StoredUser {
  /** `<ProviderName>_<IdP sub>`. */
  readonly username: string;
  /** Cognito's own `sub` for the profile. */
  readonly sub: string;
  readonly providerName: string;
  /** The IdP subject (`identities[0].userId`). */
  readonly providerUserId: string;
  /** Attributes as Cognito stores them, all strings (`sub`, `identities`, mapped ones). */
  attributes: Record<string, string>;
  groups: string[];
  readonly status: 'EXTERNAL_PROVIDER';
  enabled: boolean;
  readonly createdAt: number;
  lastModifiedAt: number;
}

/** A sign-in failure Cognito reports in the redirect to the app (`error`, `error_description`). */
export class SignInError extends Error {
  readonly error: string;

  constructor(error: string, description: string, options?: ErrorOptions) {
    super(description, options);
    this.name = 'SignInError';
    this.error = error;
  }
}

const invalidAttributes = (detail: string): SignInError =>
  new SignInError('invalid_request', `Invalid user attributes: ${detail}`);

/** How Cognito stores a claim value: strings as they are, everything else as JSON. */
export function attributeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export interface MappedAttributes {
  /** The IdP value that names the user (the claim mapped to `username`, `sub` by default). */
  readonly providerUserId: string;
  /** Pool attribute → value, only for claims present in this sign-in. */
  readonly values: Readonly<Record<string, string>>;
}

/**
 * Applies a provider's attribute mapping to the claims of one sign-in.
 *
 * @throws SignInError with Cognito's message when the mapping names an attribute outside the
 *   schema, a value is too long, or the IdP sent no subject.
 */
export function mapClaims(
  provider: ProviderConfig,
  schema: ReadonlyMap<string, SchemaAttribute>,
  claims: Readonly<Record<string, unknown>>,
): MappedAttributes {
  const usernameClaim = provider.attributeMapping.username ?? 'sub';
  const subject = claims[usernameClaim];
  if (subject === undefined || subject === null || subject === '') {
    throw invalidAttributes(`username: the identity provider sent no ${usernameClaim} claim.`);
  }
  const values: Record<string, string> = {};
  for (const [attribute, claim] of Object.entries(provider.attributeMapping)) {
    if (attribute === 'username') continue;
    const declared = schema.get(attribute);
    if (declared === undefined) {
      // Reported for custom attributes missing from the schema (aws-genai-llm-chatbot#636) and for
      // standard names that do not exist (cloudfront-authorization-at-edge#153).
      throw invalidAttributes(
        attribute.startsWith('custom:')
          ? `Type for attribute {${attribute}} could not be determined`
          : `${attribute}: Attribute does not exist in the schema.`,
      );
    }
    const value = claims[claim];
    if (value === undefined || value === null) continue;
    const text = attributeValue(value);
    if (text.length > declared.maxLength) {
      // Wording unconfirmed; the limit (2,048) is documented.
      throw invalidAttributes(
        `${attribute}: String must be no longer than ${declared.maxLength} characters.`,
      );
    }
    values[attribute] = text;
  }
  return { providerUserId: attributeValue(subject), values };
}

/** A stable UUID-shaped id for a profile, so identity ids survive restarts of the offline stack. */
function profileSub(userPoolId: string, username: string): string {
  const hex = createHash('sha256').update(`${userPoolId}\0${username.toLowerCase()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((Number.parseInt(hex[16] ?? '0', 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface FederatedSignIn {
  readonly provider: ProviderConfig;
  readonly mapped: MappedAttributes;
  readonly client: AppClientTemplate;
  readonly now: number;
  /** The new profile's sub, for a user the pool holds from the start; Cognito assigns it otherwise. */
  readonly sub?: string;
}

/** The user profiles of one pool, keyed case-insensitively (UsernameConfiguration.CaseSensitive: false). */
export class UserDirectory {
  private readonly byName = new Map<string, StoredUser>();
  private readonly userPoolId: string;
  private readonly schema: ReadonlyMap<string, SchemaAttribute>;

  constructor(userPoolId: string, schema: ReadonlyMap<string, SchemaAttribute>) {
    this.userPoolId = userPoolId;
    this.schema = schema;
  }

  get(username: string): StoredUser | undefined {
    return this.byName.get(username.toLowerCase());
  }

  list(): readonly StoredUser[] {
    return [...this.byName.values()];
  }

  delete(username: string): boolean {
    return this.byName.delete(username.toLowerCase());
  }

  /**
   * Creates or updates the profile of a federated user, as Cognito does after an IdP sign-in.
   *
   * @throws SignInError when the client may not write a mapped attribute, an immutable attribute
   *   would be rewritten, or a required attribute ends up without a value.
   */
  upsertFederated({ provider, mapped, client, now, sub: seededSub }: FederatedSignIn): StoredUser {
    const username = `${provider.name}_${mapped.providerUserId}`;
    const existing = this.get(username);
    for (const attribute of Object.keys(mapped.values)) {
      // Cognito rewrites every mapped attribute on every sign-in, even unchanged ones, and fails
      // when it may not (attribute-mapping page above; message from aws-amplify/aws-sdk-ios#2296).
      const notWritable = client.writeAttributes !== undefined && !client.writeAttributes.has(attribute);
      const immutable = existing !== undefined && this.schema.get(attribute)?.mutable === false;
      if (notWritable || immutable) throw invalidAttributes(`${attribute}: Attribute cannot be updated.`);
    }
    const attributes = { ...(existing?.attributes ?? {}), ...mapped.values };
    for (const declared of this.schema.values()) {
      if (declared.required && (attributes[declared.name] ?? '') === '') {
        throw invalidAttributes(`${declared.name}. The attribute is required.`);
      }
    }
    if (existing !== undefined) {
      existing.attributes = {
        ...attributes,
        sub: existing.sub,
        identities: existing.attributes.identities ?? '',
      };
      existing.lastModifiedAt = now;
      return existing;
    }
    const sub = seededSub ?? profileSub(this.userPoolId, username);
    const identities = [
      {
        userId: mapped.providerUserId,
        providerName: provider.name,
        providerType: provider.type,
        issuer: null,
        primary: 'true',
        dateCreated: String(now),
      },
    ];
    const user: StoredUser = {
      username,
      sub,
      providerName: provider.name,
      providerUserId: mapped.providerUserId,
      attributes: { ...attributes, sub, identities: JSON.stringify(identities) },
      // Cognito adds every auto-created federated profile to the provider's automatic group.
      groups: [`${this.userPoolId}_${provider.name}`],
      status: 'EXTERNAL_PROVIDER',
      enabled: true,
      createdAt: now,
      lastModifiedAt: now,
    };
    this.byName.set(username.toLowerCase(), user);
    return user;
  }
}
