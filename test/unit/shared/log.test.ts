import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveKeyring, sealCookie } from '../../../functions/shared/auth/cookies.ts';
import { createLogger, redact } from '../../../functions/shared/log.ts';
import { realisticRefreshToken } from '../../helpers/user-pool.ts';

const keyring = deriveKeyring({ current: 'k1', secrets: { k1: 'a-cookie-key-for-the-logger-test-0001' } });

describe('the logger’s safety net', () => {
  it('redacts a JWS, a five-part JWE refresh token and a dir JWE cookie anywhere in a string', async () => {
    const jws = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ';
    const refresh = await realisticRefreshToken();
    const cookie = await sealCookie('session', { meta: { exp: 2_000_000_000 }, token: refresh }, keyring);
    assert.equal(cookie.split('.')[1], '', 'a dir JWE has an empty second part');
    for (const secret of [jws, refresh, cookie]) {
      const out = String(redact(`seen ${secret} here`));
      assert.equal(out, 'seen [redacted-jwt] here');
      for (const part of secret.split('.')) if (part.length > 8) assert.ok(!out.includes(part));
    }
  });

  it('keeps an error’s identifier code and its cause chain (what tells ENOTFOUND from an outage)', () => {
    const fetchFailure = new TypeError('fetch failed', {
      cause: Object.assign(new Error('getaddrinfo ENOTFOUND auth.example.com'), { code: 'ENOTFOUND' }),
    });
    assert.deepEqual(redact({ cause: new Error('refresh failed', { cause: fetchFailure }) }), {
      cause: {
        name: 'Error',
        message: 'refresh failed',
        cause: {
          name: 'TypeError',
          message: 'fetch failed',
          cause: { name: 'Error', message: 'getaddrinfo ENOTFOUND auth.example.com', code: 'ENOTFOUND' },
        },
      },
    });
  });

  it('never logs a code that is not an identifier, nor a context value under a secret-looking key', () => {
    const error = Object.assign(new Error('x'), { code: '6f1c3b9e-1d2a-4c3b-9e8f-7a6b5c4d3e2f' });
    assert.deepEqual(redact(error), { name: 'Error', message: 'x' });
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).info('callback', {
      code: 'an-authorization-code',
      refresh_token: 'r',
      sessionCookie: 'c',
      outcome: 'ok',
    });
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(
      [line.code, line.refresh_token, line.sessionCookie, line.outcome],
      ['[redacted]', '[redacted]', '[redacted]', 'ok'],
    );
  });
});

describe('the invocation context and DEBUG sampling', () => {
  const capture = (options: Parameters<typeof createLogger>[0] = {}) => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ ...options, write: (line) => lines.push(JSON.parse(line)) });
    return { log, lines };
  };

  it('puts the invocation context on every line of the logger and its children, until it ends', () => {
    const { log, lines } = capture();
    const child = log.child({ part: 'session' });
    log.setInvocation({ requestId: 'req-1', function: 'broker-callback', coldStart: true });
    log.info('one');
    child.warn('two');
    log.setInvocation(undefined);
    log.info('after');
    assert.deepEqual(
      lines.map((l) => [l.message, l.requestId, l.function, l.part]),
      [
        ['one', 'req-1', 'broker-callback', undefined],
        ['two', 'req-1', 'broker-callback', 'session'],
        ['after', undefined, undefined, undefined],
      ],
    );
  });
});
