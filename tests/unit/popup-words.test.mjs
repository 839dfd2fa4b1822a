// What the popup says, checked in Node: the times ("12 s ago", "expires in 1:45"), hosts and
// places, and a sentence for every way an answer can end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ago, clock, expiresIn, secondsLeft } from '../../extension/time.js';
import { hostOf, outcomeMessage, placeName } from '../../extension/words.js';

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
  assert.match(say('rejected', 'bad_answer', 2).text, /did not accept.*2 tries left/);
  assert.match(say('rejected', 'bad_device_tag').text, /did not recognise this device/);
  assert.match(say('rejected', 'something_new').text, /refused the answer \(something new\)/);
  assert.match(say('failed', 'unreachable').text, /could not be reached/);
  assert.match(say('failed', 'unknown_request').text, /no longer waiting/);
  assert.match(say('failed', 'http_500').text, /could not be sent \(http 500\)/);
  assert.match(say('failed', 'pin_required').text, /needs its PIN/);
  assert.match(say('failed', 'already_answering').text, /already being answered/);
  for (const outcome of [say('rejected'), say('failed'), say('expired')]) assert.equal(outcome.tone, 'bad');
  // No app name (an outcome the worker wrote without one) still reads as a sentence.
  assert.equal(outcomeMessage({ status: 'approved' }).text, 'Approved. You are being signed in to the app.');
});
