// Which sites the tokens use, and which a change of them stops using: the rules behind what
// PushOTP asks the browser for and gives back (extension/access.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dropped, patternOf, serverOf, usesOf } from '../../extension/access.js';

const push = {
  tokenId: 'tok_1',
  tokenName: 'Demo Portal',
  server: 'https://auth.example.com',
  loginOrigins: ['https://portal.example.com'],
  sites: ['https://sso.example.org'],
};
const otp = { id: 'o1', issuer: 'GitHub', account: 'alice', sites: ['https://github.com', 'https://sso.example.org'] };
const pi = { serial: 'PIPU0001', label: '', url: 'https://pi.example.net/ttype/push', sites: [] };

test('every site a token uses is listed with each use: servers, declared login pages, confirmed sites', () => {
  const uses = usesOf({ push: { tok_1: push }, otp: { o1: otp }, pi: { PIPU0001: pi } });
  assert.deepEqual([...uses.keys()].sort(), [
    'https://auth.example.com',
    'https://github.com',
    'https://pi.example.net',
    'https://portal.example.com',
    'https://sso.example.org',
  ]);
  assert.deepEqual(uses.get('https://auth.example.com'), [{ kind: 'push', id: 'tok_1', name: 'Demo Portal', role: 'server' }]);
  assert.deepEqual(uses.get('https://portal.example.com'), [{ kind: 'push', id: 'tok_1', name: 'Demo Portal', role: 'login' }]);
  assert.deepEqual(uses.get('https://sso.example.org'), [
    { kind: 'push', id: 'tok_1', name: 'Demo Portal', role: 'site' },
    { kind: 'otp', id: 'o1', name: 'GitHub (alice)', role: 'site' },
  ]);
  assert.deepEqual(uses.get('https://pi.example.net'), [{ kind: 'pi', id: 'PIPU0001', name: 'PIPU0001', role: 'server' }]);
  // Nothing that is not a web origin counts.
  assert.equal(usesOf({ otp: { x: { ...otp, sites: ['javascript:alert(1)', 'file:///etc'] } } }).size, 0);
});

test('a change gives back only the sites no token uses after it', () => {
  const before = { o1: otp };
  const after = { o1: { ...otp, sites: ['https://github.com'] } };
  assert.deepEqual(dropped({ otpTokens: { oldValue: before, newValue: after } }), ['https://sso.example.org']);
  // Removing the only token drops all its sites; adding one drops none.
  assert.deepEqual(dropped({ pushTokens: { oldValue: { tok_1: push }, newValue: {} } }).sort(), [
    'https://auth.example.com',
    'https://portal.example.com',
    'https://sso.example.org',
  ]);
  assert.deepEqual(dropped({ piTokens: { oldValue: {}, newValue: { PIPU0001: pi } } }), []);
});

test('a grant is a host on every port; a link the core refuses names no server to ask for', () => {
  assert.equal(patternOf('https://auth.example.com'), 'https://auth.example.com/*');
  assert.equal(patternOf('http://127.0.0.1:8080'), 'http://127.0.0.1/*');
  assert.equal(serverOf(() => 'http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
  assert.equal(serverOf(() => 'https://pi.example.net/ttype/push'), 'https://pi.example.net');
  assert.equal(
    serverOf(() => {
      throw new Error('insecure_server');
    }),
    null,
  );
  assert.equal(serverOf(() => 'javascript:alert(1)'), null);
});
