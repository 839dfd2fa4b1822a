// The sign-in code of a server's approval reply goes into a web page (docs/protocol.md §5,
// "What the login page gets"), so the worker fills it only when it is what the protocol allows,
// the token's `otp.digits` ASCII digits (extension/push.js takes it through `loginCodeOf`).
// Whatever else a hostile or broken server sends there fills nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loginCodeOf } from '../../extension/login-code.js';

test("a sign-in code passes only as the token's number of ASCII digits; anything else a server sends fills nothing", () => {
  assert.equal(loginCodeOf('493027', 6), '493027');
  assert.equal(loginCodeOf('04930271', 8), '04930271');
  assert.equal(loginCodeOf('0493027123', 10), '0493027123');
  const refused = [
    ['49302712', 6, 'more digits than the token has'],
    ['49302', 6, 'fewer digits than the token has'],
    ['493027', 8, 'fewer digits than the token has (8)'],
    ['', 6, 'empty'],
    ['49302a', 6, 'a letter'],
    ['49 027', 6, 'a space'],
    ['493027\n', 6, 'a line break after it'],
    ['+49302', 6, 'a sign'],
    ['４９３０２７', 6, 'full-width digits'],
    ['٤٩٣٠٢٧', 6, 'Arabic-Indic digits'],
    ['<img src=x onerror=alert(1)>', 6, 'markup'],
    ['1'.repeat(1 << 20), 6, 'a huge string of digits'],
    [493027, 6, 'a number, not a string'],
    [['493027'], 6, 'an array'],
    [{ toString: () => '493027' }, 6, 'an object'],
    [null, 6, 'null'],
    [undefined, 6, 'nothing'],
    ['12345', 5, 'a token of fewer digits than the protocol allows'],
  ];
  for (const [code, digits, what] of refused) assert.equal(loginCodeOf(code, digits), undefined, what);
});
