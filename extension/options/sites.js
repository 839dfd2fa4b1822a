// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The sites PushOTP may act on (access.js): each site a token uses, what for, and whether the
// browser granted it. A site not granted yet (a token restored from a backup, a login page the
// browser did not ask about in time, access taken back in the browser's settings) gets an
// Allow button, whose click is what the browser needs before it asks; a site the person
// confirmed for filling codes gets Remove.
import { request } from '../access.js';
import { Message, ask } from '../messages.js';
import { $, hostOf, say } from './common.js';

/** @typedef {import('../messages.js').Site} Site */

const ROLE = Object.freeze({ server: 'server of', login: 'sign-in page of', site: 'confirmed for' });

/** What a site is for, in one sentence: "server of Demo Portal; confirmed for GitHub (alice)". */
function purpose(/** @type {Site} */ site) {
  const parts = site.uses.map((use) => `${ROLE[use.role]} ${use.name}`);
  return [...new Set(parts)].join('; ');
}

/** @param {Site} site */
function item(site) {
  const host = hostOf(site.origin);
  const li = document.createElement('li');
  li.className = 'token site';
  li.dataset.origin = site.origin;
  const name = document.createElement('span');
  name.className = 'site-name';
  name.textContent = site.origin.startsWith('http://') ? site.origin : host;
  const what = document.createElement('p');
  what.className = 'hint';
  what.textContent = `${purpose(site)}.${site.granted ? '' : ' Not allowed yet: PushOTP cannot act on it until you allow it.'}`;
  li.append(name);
  if (!site.granted) {
    const allow = document.createElement('button');
    allow.type = 'button';
    allow.textContent = 'Allow';
    allow.setAttribute('aria-label', `Allow PushOTP on ${host}`);
    allow.addEventListener('click', async () => {
      // The browser asks the person now, within this click.
      const granted = await request([site.origin]);
      say($('sites-status'), granted ? `PushOTP may act on ${host} now.` : `PushOTP still may not act on ${host}.`, granted ? 'ok' : 'error');
      await render();
    });
    li.append(allow);
  }
  if (site.uses.some((use) => use.role === 'site')) {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${host} from the confirmed sites`);
    remove.addEventListener('click', async () => {
      try {
        await ask({ type: Message.SITE_REMOVE, origin: site.origin });
        const kept = site.uses.some((use) => use.role !== 'site');
        say($('sites-status'), kept ? `Codes are no longer filled into ${host}; PushOTP keeps acting on it for its token's sign-ins.` : `Removed ${host}: PushOTP no longer acts on it.`, 'ok');
      } catch (err) {
        say($('sites-status'), `${host} could not be removed: ${err.message}`, 'error');
      }
      $('sites-heading').focus();
    });
    li.append(remove);
  }
  li.append(what);
  return li;
}

/** Renders the list as the worker sees it now. */
export async function render() {
  const { sites } = await ask({ type: Message.SITES_LIST });
  $('sites-none').hidden = sites.length > 0;
  $('sites').replaceChildren(...sites.map(item));
}

// A grant given or taken back in the browser's own settings shows at once too.
chrome.permissions.onAdded.addListener(() => render());
chrome.permissions.onRemoved.addListener(() => render());
