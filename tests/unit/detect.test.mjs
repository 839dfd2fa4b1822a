// The detector's scoring as a pure function, without a browser: which fields are code fields
// (named in attributes, labels or a few languages, helped by a numeric shape and the text
// around them) and which never are (backup and recovery codes, coupons, postal codes, phone
// numbers, searches, user names, e-mail addresses, password resets...).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../extension/detect.js';

const { score, groupScore, words, THRESHOLD } = globalThis.pushotpDetect;
const field = (features) => score({ type: 'text', maxLength: -1, ...features });
const fills = (features) => field(features) >= THRESHOLD;

test('names are split into words', () => {
  assert.equal(words('mfaCode'), 'mfa code');
  assert.equal(words('app_otp'), 'app otp');
  assert.equal(words('totp-pin'), 'totp pin');
  assert.equal(words('verification.code[0]'), 'verification code 0');
});

test('autocomplete="one-time-code" outranks every other hint', () => {
  const marked = field({ autocomplete: 'one-time-code', name: 'x' });
  const named = field({ name: 'otp', label: 'One-time password', inputMode: 'numeric', maxLength: 6 });
  assert.ok(marked > named, `${marked} > ${named}`);
  assert.ok(fills({ autocomplete: 'section-login one-time-code' }));
});

test('code fields are found by name, id, label, aria-label, placeholder or nearby text', () => {
  const found = [
    { name: 'app_otp', id: 'app_totp' },
    { name: 'mfaCode' },
    { name: 'otpcode' },
    { id: 'twoFactorCode' },
    { name: 'verification_code' },
    { name: 'x', label: 'Authentication code' },
    { name: 'x', label: '6-digit code' },
    { name: 'x', label: 'One-time passcode' },
    { name: 'x', ariaLabel: 'Security code' },
    { name: 'x', placeholder: 'Enter your 2FA code' },
    { type: 'tel', name: 'Pin', ariaLabel: 'Enter code', pattern: '[0-9 ]*', nearby: '2-Step Verification' },
    { type: 'tel', name: 'otc', label: 'Enter code Please type in the code displayed on your authenticator app' },
    { name: 'code', nearby: 'Two-factor authentication', inputMode: 'numeric', maxLength: 6 },
    { name: 'c', label: 'Bestätigungscode' },
    { name: 'c', label: 'Code de vérification' },
    { name: 'c', label: 'Código de verificación' },
    { name: 'loginOtp' },
    { name: 'phone_otp' },
    { type: 'password', name: 'otp_password' },
    { type: 'number', name: 'token', inputMode: 'numeric', maxLength: 6 },
  ];
  for (const features of found) assert.ok(fills(features), JSON.stringify(features));
});

test('fields for other things are never code fields, whatever else they say', () => {
  const never = [
    { name: 'recovery_code', label: 'Recovery code', nearby: 'Two-factor authentication' },
    { name: 'backupCode', label: 'Enter one of your 8-digit backup codes' },
    { name: 'spare', label: 'Backup code', autocomplete: 'one-time-code' },
    { name: 'otp_backup' },
    { name: 'captcha_code', label: 'Enter the code shown' },
    { name: 'coupon', label: 'Coupon code' },
    { name: 'promoCode' },
    { name: 'c', label: 'Gift card code' },
    { name: 'zip', label: 'ZIP code' },
    { name: 'c', label: 'Code postal' },
    { name: 'cvc', label: 'Security code', maxLength: 4 },
    { name: 'cardNumber', label: 'Card number' },
    { name: 'q', placeholder: 'Search codes' },
    { name: 'login', label: 'Username or email address' },
    { type: 'email', name: 'otp', label: 'One-time code' },
    { type: 'search', name: 'otp' },
    { name: 'phone', label: 'Phone number', nearby: 'We will text you a verification code' },
    { name: 'c', label: 'Password reset code' },
    { name: 'password', autocomplete: 'current-password', nearby: 'two-factor' },
    { name: 'code', autocomplete: 'postal-code' },
    { name: 'area', label: 'Area code', type: 'tel' },
  ];
  for (const features of never) assert.equal(field(features), 0, JSON.stringify(features));
});

test('a hint alone is not enough; a numeric shape or nearby text makes it enough', () => {
  assert.ok(!fills({ name: 'code' }));
  assert.ok(!fills({ name: 'x', label: 'Code' }));
  assert.ok(!fills({ name: 'x' }));
  // Shape without any word is never enough.
  assert.equal(field({ name: 'x', inputMode: 'numeric', pattern: '[0-9]*', maxLength: 6, type: 'tel' }), 0);
  assert.ok(fills({ name: 'x', label: 'Code', inputMode: 'numeric', maxLength: 6 }));
  assert.ok(fills({ name: 'code', nearby: 'Enter the code from your authenticator app', maxLength: 6 }));
  // Too short for any passcode.
  assert.equal(field({ name: 'otp', maxLength: 4 }), 0);
});

test('a row of four to eight boxes is a split code field unless it says otherwise', () => {
  const first = { type: 'text', inputMode: 'numeric' };
  const row = (count, labels = [], nearby = '') => groupScore({ count, first, labels, nearby });
  assert.ok(row(6) >= THRESHOLD);
  assert.ok(row(4) >= THRESHOLD);
  assert.ok(row(8, [], 'Enter the verification code') > row(8));
  assert.equal(row(3), 0);
  assert.equal(row(9), 0);
  assert.equal(row(6, ['Recovery code character 1']), 0);
  assert.equal(groupScore({ count: 6, first: { type: 'checkbox' }, labels: [], nearby: '' }), 0);
  // Plain text boxes without any hint are not enough when there are only four.
  assert.ok(groupScore({ count: 4, first: { type: 'text' }, labels: [], nearby: '' }) < THRESHOLD);
});
