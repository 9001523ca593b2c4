/**
 * ABAC before deploy: every offline identity signs in through the stand-ins (IdP claims, the
 * template's attribute mapping, the real trigger, IdentityPoolPrincipalTags), and the principal tags
 * on its credentials meet AuthenticatedRole's policies in an IAM policy simulator. The matrix is
 * pinned: a change to the trigger, the tag mapping or the policy that changes who may do what fails
 * here, and the README must show the same table.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../local/api.ts';
import { readTemplate } from '../../local/template.ts';
import {
  type AccessRow,
  accessMatrix,
  authenticatedRolePolicies,
  decide,
  EXAMPLE_BUCKET,
  type NamedPolicy,
  renderAccessMarkdown,
} from '../../tools/doctor/access.ts';

// Columns: read own private/<id>/, write own private/<id>/, read verified/*, write verified/*, read another's private/.
const EXPECTED: Record<string, { tags: Record<string, string>; decisions: string }> = {
  'idme veteran': {
    tags: { idp: 'idme', idp_env: 'sandbox', assurance: 'IAL2', affiliations: 'military:veteran' },
    decisions: 'allow allow allow deny deny',
  },
  'idme student': {
    tags: { idp: 'idme', idp_env: 'sandbox', assurance: 'IAL1', affiliations: 'student' },
    decisions: 'allow allow deny deny deny',
  },
  'idme ial2': {
    tags: { idp: 'idme', idp_env: 'sandbox', assurance: 'IAL2', affiliations: 'none' },
    decisions: 'allow allow allow deny deny',
  },
  'idme unverified': {
    tags: { idp: 'idme', idp_env: 'sandbox', assurance: 'none', affiliations: 'none' },
    decisions: 'allow allow deny deny deny',
  },
  'idura mitid (low)': {
    tags: { idp: 'idura', idp_env: 'test', assurance: 'low', affiliations: 'none' },
    decisions: 'allow allow deny deny deny',
  },
  'idura mitid (substantial)': {
    tags: { idp: 'idura', idp_env: 'test', assurance: 'substantial', affiliations: 'none' },
    decisions: 'allow allow allow deny deny',
  },
  'idura mitid (high)': {
    tags: { idp: 'idura', idp_env: 'test', assurance: 'high', affiliations: 'none' },
    decisions: 'allow allow allow deny deny',
  },
  'idura se-bankid': {
    tags: { idp: 'idura', idp_env: 'test', assurance: 'none', affiliations: 'none' },
    decisions: 'allow allow deny deny deny',
  },
  'idura no-bankid': {
    tags: { idp: 'idura', idp_env: 'test', assurance: 'none', affiliations: 'none' },
    decisions: 'allow allow deny deny deny',
  },
  'idura de-eid': {
    tags: { idp: 'idura', idp_env: 'test', assurance: 'high', affiliations: 'none' },
    decisions: 'allow allow allow deny deny',
  },
};

let rows: AccessRow[];
before(async () => {
  rows = await accessMatrix();
});

describe('access matrix of the offline identities', () => {
  it('pins the principal tags and the decisions for every identity', () => {
    const actual = Object.fromEntries(
      rows.map((r) => [r.label, { tags: { ...r.principalTags }, decisions: r.decisions.join(' ') }]),
    );
    assert.deepEqual(actual, EXPECTED);
  });

  it('gives each identity its own identity id (the private/<id>/ rows are about different prefixes)', () => {
    const byIdentity = new Map(rows.map((r) => [r.label.replace(/ \(.*\)$/, ''), r.identityId]));
    assert.equal(new Set(byIdentity.values()).size, byIdentity.size);
    for (const r of rows) assert.match(r.identityId, /^us-east-1:[0-9a-f-]{36}$/);
  });

  it('is the table the README shows', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    assert.ok(
      readme.includes(renderAccessMarkdown(rows)),
      `README.md should contain, verbatim:\n${renderAccessMarkdown(rows)}`,
    );
  });
});

describe('the access matrix of another template (--template)', () => {
  it('takes the principal tags from that template, not from template.yaml', async () => {
    const template = readTemplate();
    const tags = template.Resources.IdentityPoolPrincipalTags?.Properties as {
      PrincipalTags: Record<string, string>;
    };
    tags.PrincipalTags.assurance = 'idp_env';
    const [row] = await accessMatrix({
      template,
      subjects: [{ label: 'idme veteran', kind: 'idme', identity: 'veteran' }],
    });
    assert.deepEqual(
      { tags: { ...row?.principalTags }, decisions: row?.decisions.join(' ') },
      {
        tags: { idp: 'idme', idp_env: 'sandbox', assurance: 'sandbox', affiliations: 'military:veteran' },
        decisions: 'allow allow deny deny deny',
      },
    );
  });
});

describe('npm run doctor -- --access', () => {
  it('prints the same matrix as JSON and exits 0', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['tools/doctor/cli.ts', '--access', '--json'],
      {
        cwd: repoRoot,
      },
    );
    const printed = JSON.parse(stdout) as AccessRow[];
    assert.deepEqual(
      Object.fromEntries(
        printed.map((r) => [r.label, { tags: r.principalTags, decisions: r.decisions.join(' ') }]),
      ),
      EXPECTED,
    );
  });
});

describe('the simulator decides on the policy, not on a table of its own', () => {
  let policies: NamedPolicy[];
  before(() => {
    policies = authenticatedRolePolicies();
  });
  const id = 'us-east-1:11111111-2222-4333-8444-555555555555';
  const object = (key: string) => `arn:aws:s3:::${EXAMPLE_BUCKET}/${key}`;

  it('evaluates the assurance condition: without it every identity reads verified/*', async () => {
    const request = {
      identityId: id,
      principalTags: { assurance: 'none' },
      action: 's3:GetObject',
      resource: object('verified/x'),
    };
    assert.equal(await decide(policies, request), 'deny');
    const unconditional = policies.map((p) => ({
      ...p,
      document: JSON.parse(JSON.stringify(p.document).replace(/,"Condition":\{[^}]*\}\}/, '')),
    }));
    assert.equal(await decide(unconditional, request), 'allow');
  });

  it('resolves the identity-id policy variable: private/<id>/ is the caller’s own prefix only', async () => {
    const tags = { assurance: 'IAL2' };
    const read = (key: string) =>
      decide(policies, {
        identityId: id,
        principalTags: tags,
        action: 's3:GetObject',
        resource: object(key),
      });
    assert.equal(await read(`private/${id}/a`), 'allow');
    assert.equal(await read('private/us-east-1:00000000-0000-4000-8000-000000000000/a'), 'deny');
    assert.equal(await read(`private/${id}`), 'deny');
  });
});
