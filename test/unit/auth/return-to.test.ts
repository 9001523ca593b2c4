import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveReturnTo } from '../../../functions/shared/auth/return-to.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';

const policy = {
  selfOrigin: 'https://api.example.com',
  allowedOrigins: ['https://app.example.com', 'http://localhost:3000'],
};
const fallback = 'https://app.example.com/';
const resolve = (raw: string | undefined) => resolveReturnTo(raw, policy, fallback);

describe('resolveReturnTo', () => {
  describe('accepts', () => {
    const accepted: Array<[string | undefined, string]> = [
      [undefined, fallback],
      ['', fallback],
      ['/', '/'],
      ['/app', '/app'],
      ['/app/page?x=1&y=%2F%2Fz#frag', '/app/page?x=1&y=%2F%2Fz#frag'],
      ['/a/../b', '/b'],
      ['https://app.example.com/done', 'https://app.example.com/done'],
      ['HTTPS://APP.EXAMPLE.COM/x', 'https://app.example.com/x'],
      ['https://app.example.com:443/', 'https://app.example.com/'],
      ['http://localhost:3000/demo', 'http://localhost:3000/demo'],
    ];
    for (const [raw, expected] of accepted) {
      it(`${JSON.stringify(raw)} -> ${expected}`, () => assert.equal(resolve(raw), expected));
    }
  });

  describe('refuses (no open redirects)', () => {
    const refused: Array<[string, string]> = [
      ['//evil.example', 'protocol-relative'],
      ['///evil.example', 'protocol-relative, three slashes'],
      ['/\\evil.example', 'backslash read as a slash'],
      ['\\\\evil.example', 'double backslash'],
      ['/%5Cevil.example', 'encoded backslash'],
      ['/%2F/evil.example', 'encoded slash making //'],
      ['%2F%2Fevil.example', 'fully encoded //'],
      ['/%252F%252Fevil.example', 'double-encoded //'],
      ['/..//evil.example', 'dot segment collapsing into //'],
      ['/\t/evil.example', 'tab (browsers drop it: //evil.example)'],
      ['/\n/evil.example', 'newline'],
      ['/%09/evil.example', 'encoded tab'],
      ['/%0d%0aSet-Cookie:x=1', 'encoded CRLF'],
      ['/app\u0000', 'NUL'],
      [' https://app.example.com', 'leading space'],
      ['https:evil.example', 'scheme without slashes'],
      ['https:/evil.example', 'scheme with one slash'],
      ['https:\\\\evil.example', 'scheme with backslashes'],
      ['javascript:alert(1)', 'javascript scheme'],
      ['JavaScript:alert(1)', 'javascript scheme, mixed case'],
      ['java%0ascript:alert(1)', 'javascript with encoded newline'],
      ['data:text/html,<script>alert(1)</script>', 'data scheme'],
      ['vbscript:msgbox', 'vbscript scheme'],
      ['https://evil.example/', 'origin not allowed'],
      ['https://app.example.com.evil.example/', 'suffix of an allowed origin'],
      ['https://app.example.com@evil.example/', 'userinfo trick'],
      ['https://user@app.example.com/', 'userinfo on an allowed origin'],
      ['http://app.example.com/', 'allowed host, other scheme'],
      ['https://app.example.com:8443/', 'allowed host, other port'],
      ['evil.example', 'bare host'],
      ['app', 'relative path without /'],
      ['?x=1', 'query only'],
      ['/%E0%A4%A', 'malformed percent-encoding'],
      [`/${'a'.repeat(2100)}`, 'too long'],
    ];
    for (const [raw, why] of refused) {
      it(`${JSON.stringify(raw).slice(0, 60)} (${why})`, () => {
        assert.throws(
          () => resolve(raw),
          (error: unknown) =>
            error instanceof BrokerError && error.code === 'invalid_return_to' && error.statusCode === 400,
        );
      });
    }
  });
});
