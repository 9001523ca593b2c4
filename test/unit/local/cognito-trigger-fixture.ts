// Pre-token-generation handlers the Cognito stand-in tests point a modified template at. They run
// in the trigger's own runtime (a child process), so what they saw travels back inside the token
// they shape.

import { appendFileSync, readFileSync } from 'node:fs';

interface Event {
  version: string;
  request: { userAttributes: Record<string, string> };
  response: Record<string, unknown>;
}

/** Echoes the event it received (and its environment) into the ID token, and tries every rule. */
export async function inspect(event: Event): Promise<Event> {
  const seen = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  event.response = {
    claimsAndScopeOverrideDetails: {
      idTokenGeneration: {
        claimsToAddOrOverride: {
          seen_event: seen,
          seen_env: {
            FIXTURE_MARK: process.env.FIXTURE_MARK ?? null,
            PROVIDER_TABLE: process.env.PROVIDER_TABLE ?? null,
          },
          family_name: 'Overridden',
          tier: 'gold',
          both_added_and_suppressed: 'added',
          sub: 'hijacked',
          'cognito:username': 'hijacked',
          iss: 'https://evil.example',
          email_verified: { not: 'allowed' },
        },
        claimsToSuppress: ['given_name', 'both_added_and_suppressed', 'identities', 'custom:idp_zip'],
      },
      accessTokenGeneration: {
        claimsToAddOrOverride: { tier: 'gold', client_id: 'hijacked', aud: 'someone-else' },
        scopesToAdd: ['offline/read'],
        scopesToSuppress: ['email'],
      },
      groupOverrideDetails: {
        groupsToOverride: ['admins'],
        iamRolesToOverride: ['arn:aws:iam::123456789012:role/admin'],
        preferredRole: 'arn:aws:iam::123456789012:role/admin',
      },
    },
  };
  return event;
}

/** Fails the sign-in with a message meant for the user. */
export async function throwing(): Promise<never> {
  throw new Error('This account cannot sign in here');
}

/** Never answers: the function's Timeout (or Cognito's 5 seconds) ends it. */
export function hanging(): Promise<never> {
  return new Promise<never>(() => {
    setInterval(() => {}, 1000);
  });
}

/**
 * Never answers the first call of all its containers (each call appends its container's pid to
 * ATTEMPTS_FILE); answers later ones with the attempt's number and the pids so far.
 */
export function hangsOnce(event: Event): Promise<Event> {
  const file = process.env.ATTEMPTS_FILE ?? '';
  appendFileSync(file, `${process.pid}\n`);
  const pids = readFileSync(file, 'utf8').trim().split('\n').map(Number);
  if (pids.length === 1) return hanging();
  event.response = {
    claimsAndScopeOverrideDetails: {
      idTokenGeneration: { claimsToAddOrOverride: { attempt: pids.length, pids } },
    },
  };
  return Promise.resolve(event);
}
