/**
 * The identity pool for the sign-in handler tests. The handlers' own client speaks HTTP; these tests
 * pass the SDK's client, whose every instance this mock answers. Import it only where that is wanted.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { mockClient } from 'aws-sdk-client-mock';

export const identityMock = mockClient(CognitoIdentityClient);
export const identityClient = new CognitoIdentityClient({ region: 'us-east-1' });
export const identityId = 'us-east-1:0a1b2c3d-1111-2222-3333-444455556666';

/** Resets the mock to a healthy pool: `identityId` for every login, credentials valid for an hour. */
export function healthyIdentityPool(): void {
  identityMock.reset();
  identityMock.on(GetIdCommand).resolves({ IdentityId: identityId });
  identityMock.on(GetCredentialsForIdentityCommand).resolves({
    IdentityId: identityId,
    Credentials: {
      AccessKeyId: 'ASIAEXAMPLE',
      SecretKey: 'secret',
      SessionToken: 'session-token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  });
}
