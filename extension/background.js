// SPDX-License-Identifier: MIT OR Apache-2.0
// The service worker. Listeners are registered synchronously at the top level so that the
// browser can wake the worker for them; work that needs the core awaits `ready`.
import { ready, totp, hotp } from './core.js';
import { Message, failure } from './messages.js';

/**
 * Answers one message. Only the extension's own pages may ask (content scripts and other
 * extensions get an error), and unknown types are refused.
 * @returns {Promise<import('./messages.js').Reply>}
 */
async function onMessage(message, sender) {
  if (sender.id !== chrome.runtime.id || !isExtensionPage(sender)) {
    return failure({ code: 'forbidden', message: 'not an extension page' });
  }
  switch (message?.type) {
    case Message.CODE_REQUEST: {
      await ready;
      const { token, at } = message;
      const code = token?.type === 'hotp' ? hotp(token, token.counter ?? 0) : totp(token, at ?? Date.now());
      return { ok: true, code };
    }
    default:
      return failure({ code: 'unknown_message', message: `unknown message type ${message?.type}` });
  }
}

function isExtensionPage(sender) {
  return typeof sender.url === 'string' && sender.url.startsWith(chrome.runtime.getURL(''));
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  onMessage(message, sender).then(sendResponse, (err) => sendResponse(failure(err)));
  // Keeps the channel open for the asynchronous reply.
  return true;
});
