/**
 * `npm run doctor -- --access`: who may do what, before deploying. Each offline test identity signs
 * in through the stand-ins (the IdP's claims, the template's attribute mapping, the real
 * pre-token-generation trigger, the identity pool's IdentityPoolPrincipalTag mapping), and the
 * principal tags its credentials carry are put to the template's AuthenticatedRole policies by an
 * IAM policy simulator (@cloud-copilot/iam-simulate, AGPL: a devDependency, never deployed).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ephemeralConfig, localParameters } from '../../local/config.ts';
import { IDME_IDENTITIES, IDURA_ACR, IDURA_IDENTITIES } from '../../local/idps/identities.ts';
import { freePort } from '../../local/net.ts';
import { type StandIns, startStandIns } from '../../local/stack.ts';
import { type RawTemplate, readTemplate, TemplateResolver } from '../../local/template.ts';
import { probeSignIn, redeemCode, targetsFromStack } from './offline.ts';

/** The bucket the template's example policy is evaluated with (its ExampleBucketName). */
export const EXAMPLE_BUCKET = 'example-bucket';
const ACCOUNT = '123456789012';
/** Another identity's id, for the "someone else's prefix" rows. */
const OTHER_IDENTITY = 'us-east-1:00000000-0000-4000-8000-000000000000';

export interface AccessSubject {
  /** Short name in the table, e.g. `idme veteran`, `idura mitid (high)`. */
  readonly label: string;
  readonly kind: 'idme' | 'idura';
  /** The test identity's id in local/idps/identities.ts. */
  readonly identity: string;
  /** Idura: the login method, sent as Cognito forwards it (`login_hint=acr_values:<urn>`). */
  readonly acr?: string;
}

/** Every offline test identity, with MitID at each of its levels (they set `assurance`). */
const ACCESS_SUBJECTS: readonly AccessSubject[] = [
  ...IDME_IDENTITIES.map((i) => ({ label: `idme ${i.id}`, kind: 'idme' as const, identity: i.id })),
  ...IDURA_IDENTITIES.flatMap((i) =>
    i.id === 'mitid'
      ? [IDURA_ACR.mitidLow, IDURA_ACR.mitidSubstantial, IDURA_ACR.mitidHigh].map((acr) => ({
          label: `idura mitid (${acr.split(':').at(-1)})`,
          kind: 'idura' as const,
          identity: i.id,
          acr,
        }))
      : [{ label: `idura ${i.id}`, kind: 'idura' as const, identity: i.id }],
  ),
];

export interface SampleAction {
  readonly verb: 'read' | 'write';
  readonly action: string;
  /** Which part of the bucket, as the table names it. */
  readonly area: string;
  /** The object key, given the signed-in identity's id. */
  readonly key: (identityId: string) => string;
}

/** The README's S3 example: the identity's own prefix, the verified area, someone else's prefix. */
export const SAMPLE_ACTIONS: readonly SampleAction[] = [
  { verb: 'read', action: 's3:GetObject', area: 'private/{own id}/', key: (id) => `private/${id}/notes.txt` },
  {
    verb: 'write',
    action: 's3:PutObject',
    area: 'private/{own id}/',
    key: (id) => `private/${id}/notes.txt`,
  },
  { verb: 'read', action: 's3:GetObject', area: 'verified/*', key: () => 'verified/benefits.pdf' },
  { verb: 'write', action: 's3:PutObject', area: 'verified/*', key: () => 'verified/benefits.pdf' },
  {
    verb: 'read',
    action: 's3:GetObject',
    area: 'private/{another id}/',
    key: () => `private/${OTHER_IDENTITY}/notes.txt`,
  },
];

export type Decision = 'allow' | 'deny' | 'explicit deny';

interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: unknown;
}

export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

/** AuthenticatedRole's inline policies, resolved with ExampleBucketName set (empty without the role). */
export function authenticatedRolePolicies(template: RawTemplate = readTemplate()): NamedPolicy[] {
  const resolver = new TemplateResolver(template, {
    region: 'us-east-1',
    accountId: ACCOUNT,
    parameters: {
      ...localParameters(ephemeralConfig(3000)),
      ExampleBucketName: EXAMPLE_BUCKET,
    },
  });
  if (!resolver.resourcesOfType('AWS::IAM::Role').includes('AuthenticatedRole')) return [];
  const policies = resolver.resource('AuthenticatedRole').Properties.Policies;
  if (!Array.isArray(policies)) return [];
  return policies.map((p) => {
    const { PolicyName, PolicyDocument } = p as unknown as {
      PolicyName: string;
      PolicyDocument: PolicyDocument;
    };
    return { name: PolicyName, document: PolicyDocument };
  });
}

/**
 * The web-identity policy variables IAM resolves in the role's session
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif,
 * https://docs.aws.amazon.com/cognito/latest/developerguide/iam-roles.html). The simulator only
 * knows them as keys of sts:AssumeRoleWithWebIdentity and ignores them on S3 requests, so they are
 * substituted here; everything else (actions, resources, conditions, tags) is the simulator's.
 */
function withWebIdentityVariables(document: PolicyDocument, identityId: string): PolicyDocument {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template
  const variable = '${cognito-identity.amazonaws.com:sub}';
  return JSON.parse(JSON.stringify(document).replaceAll(variable, identityId)) as PolicyDocument;
}

/** The simulator's decision for one request by a signed-in identity carrying these session tags. */
export async function decide(
  policies: readonly NamedPolicy[],
  request: {
    readonly identityId: string;
    readonly principalTags: Readonly<Record<string, string>>;
    readonly action: string;
    readonly resource: string;
  },
): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: policies.map((p) => ({
        name: p.name,
        policy: withWebIdentityVariables(p.document, request.identityId),
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action: request.action,
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/AuthenticatedRole/CognitoIdentityCredentials`,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: Object.fromEntries(
          Object.entries(request.principalTags).map(([tag, value]) => [`aws:PrincipalTag/${tag}`, value]),
        ),
      },
    },
    {},
  );
  if (result.resultType !== 'single') {
    throw new Error(
      `the IAM simulator could not evaluate ${request.action} on ${request.resource}: ${JSON.stringify(result.resultType === 'error' ? result.errors : result.resultType)}`,
    );
  }
  return result.overallResult === 'Allowed'
    ? 'allow'
    : result.overallResult === 'ExplicitlyDenied'
      ? 'explicit deny'
      : 'deny';
}

export interface AccessRow {
  readonly label: string;
  readonly identityId: string;
  readonly principalTags: Readonly<Record<string, string>>;
  /** One per SAMPLE_ACTIONS entry, in order. */
  readonly decisions: readonly Decision[];
}

/** The sample actions' decisions for one identity's credentials. */
export async function accessFor(
  policies: readonly NamedPolicy[],
  identityId: string,
  principalTags: Readonly<Record<string, string>>,
): Promise<Decision[]> {
  const decisions: Decision[] = [];
  for (const sample of SAMPLE_ACTIONS) {
    decisions.push(
      await decide(policies, {
        identityId,
        principalTags,
        action: sample.action,
        resource: `arn:aws:s3:::${EXAMPLE_BUCKET}/${sample.key(identityId)}`,
      }),
    );
  }
  return decisions;
}

/**
 * Signs a subject in through the stand-ins and trades its ID token at the identity pool stand-in:
 * its identity id and the principal tags recorded with the credentials.
 */
async function signInSubject(
  standIns: StandIns,
  subject: AccessSubject,
  options: { timeoutMs?: number } = {},
): Promise<{ identityId: string; principalTags: Readonly<Record<string, string>> }> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const provider = standIns.userPool.providerNames.find((n) =>
    n.toLowerCase().startsWith(subject.kind === 'idme' ? 'idme' : 'idura'),
  );
  if (provider === undefined) throw new Error(`template.yaml has no ${subject.kind} provider`);
  const outcome = await probeSignIn(targetsFromStack(standIns), provider, {
    fetch,
    timeoutMs,
    identity: subject.identity,
    ...(subject.acr === undefined ? {} : { loginHint: `acr_values:${subject.acr}` }),
  });
  if (outcome.kind !== 'code') {
    throw new Error(`${subject.label} could not sign in: ${JSON.stringify(outcome)}`);
  }
  const { idToken, status } = await redeemCode(targetsFromStack(standIns), outcome.code, {
    fetch,
    timeoutMs,
  });
  if (idToken === undefined) throw new Error(`${subject.label}: the token endpoint answered ${status}`);
  const logins = { [standIns.userPool.loginsKey]: idToken };
  const call = async (operation: string, body: object): Promise<Record<string, unknown>> => {
    const response = await fetch(standIns.identityPool.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityService.${operation}`,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) {
      throw new Error(`${subject.label}: ${operation} refused: ${answer.__type} ${answer.message}`);
    }
    return answer;
  };
  const { IdentityId } = await call('GetId', {
    IdentityPoolId: standIns.identityPool.identityPoolId,
    Logins: logins,
  });
  const { Credentials } = await call('GetCredentialsForIdentity', { IdentityId, Logins: logins });
  const accessKeyId = (Credentials as { AccessKeyId: string }).AccessKeyId;
  const issued = standIns.identityPool.credentials().find((c) => c.accessKeyId === accessKeyId);
  if (issued === undefined)
    throw new Error(`${subject.label}: the identity pool kept no record of ${accessKeyId}`);
  return { identityId: issued.identityId, principalTags: issued.principalTags };
}

/** Signs every subject in on stand-ins of its own (free ports) and evaluates the sample actions. */
export async function accessMatrix(
  options: { template?: RawTemplate; subjects?: readonly AccessSubject[] } = {},
): Promise<AccessRow[]> {
  const policies = authenticatedRolePolicies(options.template);
  // The same template for the policies and for the stand-ins (trigger, attribute mapping, tags).
  const standIns = await startStandIns(ephemeralConfig(await freePort()), {
    quiet: true,
    ...(options.template ? { template: options.template } : {}),
  });
  try {
    const rows: AccessRow[] = [];
    for (const subject of options.subjects ?? ACCESS_SUBJECTS) {
      const { identityId, principalTags } = await signInSubject(standIns, subject);
      rows.push({
        label: subject.label,
        identityId,
        principalTags,
        decisions: await accessFor(policies, identityId, principalTags),
      });
    }
    return rows;
  } finally {
    await standIns.close();
  }
}

const tagText = (tags: Readonly<Record<string, string>>): string =>
  Object.entries(tags)
    .map(([tag, value]) => `${tag}=${value}`)
    .join(' ');

/** The matrix as a Markdown table (the README shows it). */
export function renderAccessMarkdown(rows: readonly AccessRow[]): string {
  const header = ['Identity', 'Principal tags', ...SAMPLE_ACTIONS.map((s) => `${s.verb} \`${s.area}\``)];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${[r.label, `\`${tagText(r.principalTags)}\``, ...r.decisions].join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The doctor's text report. */
export function renderAccessText(rows: readonly AccessRow[]): string {
  const lines = [
    'Federation broker doctor: access before deploy',
    `  AuthenticatedRole's policies from template.yaml with ExampleBucketName=${EXAMPLE_BUCKET}, evaluated by @cloud-copilot/iam-simulate`,
    '  principal tags: each identity signed in through the offline stand-ins (IdP claims, attribute mapping, the real trigger, IdentityPoolPrincipalTags)',
    '',
  ];
  for (const row of rows) {
    lines.push(`${row.label}  (${row.identityId})`);
    lines.push(`  tags: ${tagText(row.principalTags)}`);
    SAMPLE_ACTIONS.forEach((sample, i) => {
      lines.push(
        `  ${(row.decisions[i] ?? '?').padEnd(13)} ${`${sample.verb} ${sample.area}`.padEnd(28)} ${sample.action}`,
      );
    });
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
