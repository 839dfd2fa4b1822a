// What the popup says, checked in Node: the times ("12 s ago", "expires in 1:45"), hosts and
// places, and a sentence for every way an answer can end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ago, clock, dateTime, expiresIn, secondsLeft } from '../../extension/time.js';
import { getDomain } from 'tldts';
import { hostOf, hostParts, outcomeMessage, placeName, triedMessage, twinNotes } from '../../extension/words.js';

test('a sign-in page\'s host: ASCII only, its registrable domain apart', () => {
  // The popup passes the vendored copy of the same module (extension/vendor/tldts.js).
  const registrable = (host) => getDomain(host, { allowPrivateDomains: true });
  const parts = (origin) => hostParts(origin, registrable);
  assert.deepEqual(parts('https://login.bank.com.evil.example'), { before: 'login.bank.com.', domain: 'evil.example', after: '' });
  assert.deepEqual(parts('https://portal.example.co.uk:8443'), { before: 'portal.', domain: 'example.co.uk', after: ':8443' });
  // A suffix under which anyone may register (github.io) is no one's domain.
  assert.deepEqual(parts('https://evil.github.io'), { before: '', domain: 'evil.github.io', after: '' });
  // Unicode hosts show in the ASCII form the URL parser gives: a Cyrillic "а" in "paypal",
  // mixed into Latin, cannot pass for the real one.
  assert.deepEqual(parts('https://login.p\u0430ypal.com'), { before: 'login.', domain: 'xn--pypal-4ve.com', after: '' });
  assert.deepEqual(parts('https://b\u00fccher.de'), { before: '', domain: 'xn--bcher-kva.de', after: '' });
  // Addresses and single names have no registrable domain: all of it stands out.
  assert.deepEqual(parts('http://127.0.0.1:8080'), { before: '', domain: '127.0.0.1', after: ':8080' });
  assert.deepEqual(parts('http://[::1]:8080'), { before: '', domain: '[::1]', after: ':8080' });
  assert.deepEqual(parts('http://localhost:3000'), { before: '', domain: 'localhost', after: ':3000' });
  // A fully qualified host ends in a dot, which names the same site: the registrable domain
  // still stands out, and the dot stays on screen after it.
  assert.deepEqual(parts('https://www.bank.com.evil.com.'), { before: 'www.bank.com.', domain: 'evil.com', after: '.' });
  assert.deepEqual(parts('https://login.evil.example.:8443'), { before: 'login.', domain: 'evil.example', after: '.:8443' });
  // Text that is no URL is shown as it is, nothing emphasised.
  assert.deepEqual(parts('bank.com'), { before: 'bank.com', domain: '', after: '' });
});

test('time since arrival', () => {
  const now = 1_764_000_000_000;
  assert.equal(ago(now, now), 'just now');
  assert.equal(ago(now - 4_999, now), 'just now');
  assert.equal(ago(now - 5_000, now), '5 s ago');
  assert.equal(ago(now - 12_400, now), '12 s ago');
  assert.equal(ago(now - 59_999, now), '59 s ago');
  assert.equal(ago(now - 60_000, now), '1 min ago');
  assert.equal(ago(now - 150_000, now), '2 min ago');
  assert.equal(ago(now - 3_600_000, now), '1 h ago');
  assert.equal(ago(now - 49 * 3_600_000, now), '2 d ago');
  // A clock that went back a little never shows a negative time.
  assert.equal(ago(now + 3_000, now), 'just now');
});

test('time left before expiry', () => {
  const expiresAt = 1_764_000_120;
  assert.equal(secondsLeft(expiresAt, 1_764_000_000_000), 120);
  assert.equal(secondsLeft(expiresAt, 1_764_000_014_500), 106);
  assert.equal(secondsLeft(expiresAt, 1_764_000_119_001), 1);
  assert.equal(secondsLeft(expiresAt, 1_764_000_120_000), 0);
  assert.equal(secondsLeft(expiresAt, 1_764_000_500_000), 0);
  assert.equal(expiresIn(expiresAt, 1_764_000_015_000), 'expires in 1:45');
  assert.equal(expiresIn(expiresAt, 1_764_000_115_000), 'expires in 0:05');
  assert.equal(expiresIn(expiresAt, 1_764_000_120_000), 'expired');
  assert.equal(clock(0), '0:00');
  assert.equal(clock(59.9), '0:59');
  assert.equal(clock(600), '10:00');
  assert.equal(clock(3725), '1:02:05');
  assert.equal(clock(-3), '0:00');
});

test('hosts and places', () => {
  assert.equal(hostOf('http://127.0.0.1:8080'), '127.0.0.1:8080');
  assert.equal(hostOf('https://login.example.com'), 'login.example.com');
  assert.equal(hostOf('not a url'), 'not a url');
  assert.equal(placeName({ city: 'London', country: 'GB', latE6: 51514200, lonE6: -93100 }), 'London, GB');
  assert.equal(placeName({ city: '', country: 'SE', latE6: 0, lonE6: 0 }), 'SE');
  assert.equal(placeName(null), 'Location unknown');
  assert.equal(placeName({ city: ' ', country: '' }), 'Location unknown');
});

test('a sentence for every outcome', () => {
  const say = (status, reason = null, triesLeft = null, pin = false) =>
    outcomeMessage({ status, reason, triesLeft, app: 'Demo Portal' }, { pin });
  assert.deepEqual(say('approved'), { text: 'Approved. You are being signed in to Demo Portal.', tone: 'good' });
  assert.equal(say('denied').tone, 'neutral');
  assert.match(say('denied').text, /^Denied\. The sign-in to Demo Portal was refused\.$/);
  assert.match(say('reported').text, /^Reported\. Your administrator has been told\./);
  assert.match(say('expired').text, /Demo Portal expired/);
  // A request that ended elsewhere: why, in a few words first, without alarm.
  assert.deepEqual(say('ended', 'answered'), {
    text: 'Answered elsewhere. The sign-in to Demo Portal was answered on another device or with a code.',
    tone: 'neutral',
  });
  assert.equal(say('ended', 'replaced').text, 'Replaced by a newer sign-in. Answer the newest request from Demo Portal.');
  assert.equal(say('ended', 'expired').text, say('expired').text);
  assert.equal(say('ended', 'removed').text, 'The token of the sign-in request from Demo Portal was removed.');
  assert.equal(say('ended').text, 'No longer waiting. The sign-in to Demo Portal was answered elsewhere or expired.');
  for (const reason of ['answered', 'replaced', 'expired', 'removed', null]) assert.equal(say('ended', reason).tone, 'neutral');
  assert.equal(
    say('rejected', 'wrong_number', 4).text,
    'That was not the number on the sign-in page. The sign-in was refused; start it again. 4 tries left.',
  );
  assert.match(say('rejected', 'wrong_pin', 3, true).text, /^Wrong PIN\. 3 tries left\./);
  assert.match(say('rejected', 'wrong_pin', 1, true).text, /^Wrong PIN\. 1 try left\./);
  assert.equal(
    say('rejected', 'locked', 0, true).text,
    'This token is locked after too many wrong PINs. Ask your administrator to unlock it.',
  );
  assert.match(say('rejected', 'locked', 0, false).text, /too many failed tries/);
  assert.match(say('rejected', 'expired').text, /expired before it was answered/);
  assert.match(say('rejected', 'already_answered').text, /already answered/);
  assert.match(say('rejected', 'cancelled').text, /nothing was approved/);
  assert.match(say('rejected', 'unknown_request').text, /no longer knows this request/);
  assert.match(say('rejected', 'unbound').text, /^This sign-in must be approved from the browser you are signing in with\./);
  assert.match(say('rejected', 'bad_answer', 2).text, /did not accept.*2 tries left/);
  // A right answer tag with a wrong passcode (protocol §5): the PIN was right, nothing counted.
  assert.equal(
    say('rejected', 'bad_passcode', null, true).text,
    "Your PIN was right, but the server did not accept this device's passcode: its keys are not the server's. No try was counted. Remove the token and add it again.",
  );
  assert.match(say('rejected', 'bad_passcode').text, /^The server did not accept this device's passcode.*No try was counted/);
  assert.match(say('rejected', 'bad_device_tag').text, /did not recognise this device/);
  assert.match(say('rejected', 'something_new').text, /refused the answer \(something new\)/);
  assert.match(say('failed', 'unreachable').text, /could not be reached/);
  assert.match(say('failed', 'unknown_request').text, /no longer waiting/);
  assert.match(say('failed', 'http_500').text, /could not be sent \(http 500\)/);
  assert.match(say('failed', 'pin_required').text, /needs its PIN/);
  assert.match(say('failed', 'already_answering').text, /already being answered/);
  // A server of another protocol version (protocol §5, step 2) took nothing: trying again is no use.
  assert.match(say('failed', 'unsupported_version').text, /another version of the protocol.*Update PushOTP/);
  for (const outcome of [say('rejected'), say('failed'), say('expired')]) assert.equal(outcome.tone, 'bad');
  // No app name (an outcome the worker wrote without one) still reads as a sentence.
  assert.equal(outcomeMessage({ status: 'approved' }).text, 'Approved. You are being signed in to the app.');
});

test('a wrong PIN that left the request waiting', () => {
  assert.equal(triedMessage({ reason: 'wrong_pin', triesLeft: 2 }), 'Wrong PIN — 2 tries left');
  assert.equal(triedMessage({ reason: 'wrong_pin', triesLeft: 1 }), 'Wrong PIN — 1 try left');
  assert.equal(triedMessage({ reason: 'wrong_pin', triesLeft: null }), 'Wrong PIN');
  assert.equal(triedMessage({ reason: 'bad_answer', triesLeft: 3 }), 'That answer was refused — 3 tries left');
});

test('tokens of one account are told apart', () => {
  const at = Date.UTC(2026, 11, 7, 4, 45, 12);
  const when = (ms, seconds) => new Date(ms).toISOString().slice(0, seconds ? 19 : 16);
  const token = (tokenId, more = {}) => ({
    tokenId,
    server: 'https://idp.example',
    tokenName: 'Demo Portal',
    user: 'alice',
    issuer: 'Demo Org',
    deviceName: 'Chrome on laptop',
    addedAt: at,
    ...more,
  });
  // Alone, or of another account, server or name: nothing to tell apart.
  assert.deepEqual(twinNotes({ a: token('a'), b: token('b', { user: 'bob' }), c: token('c', { server: 'https://other.example' }) }, when), {});
  // Other browser names: those.
  assert.deepEqual(twinNotes({ a: token('a'), b: token('b', { deviceName: 'Work' }) }, when), {
    a: { text: 'Chrome on laptop', seconds: false },
    b: { text: 'Work', seconds: false },
  });
  // The same name: when each was added, to the minute…
  assert.deepEqual(twinNotes({ a: token('a'), b: token('b', { addedAt: at + 3_600_000 }) }, when), {
    a: { text: 'added 2026-12-07T04:45', seconds: false },
    b: { text: 'added 2026-12-07T05:45', seconds: false },
  });
  // …or to the second, when the minute is the same.
  assert.deepEqual(twinNotes({ a: token('a'), b: token('b', { addedAt: at + 20_000 }), c: token('c', { user: 'bob' }) }, when), {
    a: { text: 'added 2026-12-07T04:45:12', seconds: true },
    b: { text: 'added 2026-12-07T04:45:32', seconds: true },
  });
  // The real formatter: a date and a time, with the seconds when asked.
  assert.match(dateTime(at), /2026/);
  assert.notEqual(dateTime(at, true), dateTime(at));
});
