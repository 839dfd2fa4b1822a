// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The options page: one module per section under options/ (push tokens, scanning, everyday
// codes, privacyIDEA, sites, security and backup, settings). This entry loads them, renders what
// storage holds, follows its changes, and marks the page ready.
import { onChanged, otpTokens, pushTokens, settings } from './store.js';
import './options/security.js';
import { renderSettings } from './options/settings.js';
import { linkFromAddress } from './options/push-add.js';
import { renderTokens } from './options/push.js';
import './options/codes-add.js';
import { renderOtp } from './options/codes.js';
import './options/privacyidea.js';
import * as sites from './options/sites.js';

onChanged(async (changes, area) => {
  if (area !== 'local') return;
  if (changes.pushTokens) renderTokens(changes.pushTokens.newValue ?? {});
  if (changes.otpTokens) renderOtp(changes.otpTokens.newValue ?? {});
  if (changes.settings) renderSettings(await settings());
  if (changes.pushTokens || changes.otpTokens || changes.piTokens) await sites.render();
});

renderSettings(await settings());
renderTokens(await pushTokens());
renderOtp(await otpTokens());
await sites.render();
linkFromAddress();
document.body.dataset.ready = 'true';
