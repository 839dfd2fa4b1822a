// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The options page's privacyIDEA section: enrolls a privacyIDEA push token from its link
// (pasted, or read from the QR code in another tab by the page's one scanner, scan.js) and
// lists the tokens. The worker makes the key pair and talks to the server
// (extension/privacyidea.js).
import { request, serverOf } from '../access.js';
import * as tools from '../tools.js';
import { Message, ask, coded } from '../messages.js';
import { $, $button, $input, insecureServer, say as sayIn } from './common.js';
import { ENROLL_PREFIX, OTPAUTH, hideTabChoice, scan, tabLabel } from './scan.js';
import { onChanged, piTokens } from '../store.js';

/** @typedef {import('../store.js').PiToken} PiToken */

const PIPUSH = /^(otpauth|pia):\/\/pipush\//i;

/**
 * Every message of this section goes to its one status line.
 * @param {string} text
 * @param {string} [kind]
 */
const say = (text, kind = '') => sayIn($('pi-status'), text, kind);

/**
 * How a token is named to the person: its label, and its serial where the label is another
 * (privacyIDEA labels a token with its serial unless told otherwise).
 * @param {{label: string, serial: string}} token
 */
const nameOf = (token) => (token.label && token.label !== token.serial ? `${token.label} (${token.serial})` : token.serial);

/** @param {boolean} on */
function busy(on) {
  for (const id of ['pi-add', 'pi-scan', 'pi-link', 'pi-pin']) {
    /** @type {HTMLButtonElement|HTMLInputElement} */ ($(id)).disabled = on;
  }
}

/**
 * What a failed enrollment means for the person.
 * @param {{code?: string, message?: string, detail?: any}} err  the worker's coded error, or what else was thrown
 */
function problem(err) {
  switch (err?.code) {
    case 'no_access':
      return err.message;
    case 'wrong_scheme':
      return 'This is not a privacyIDEA push enrollment link. It starts with otpauth://pipush/ or pia://pipush/.';
    case 'missing_parameter':
    case 'invalid_parameter':
    case 'malformed_uri':
      return `This privacyIDEA link is damaged (${err.message}). Copy or scan it again.`;
    case 'unsupported_version':
      return 'This privacyIDEA link is for a newer version of the protocol.';
    case 'insecure_server':
      return insecureServer($input('pi-link').value, 'url');
    case 'unreachable':
      return 'The privacyIDEA server could not be reached. Check the connection and try again.';
    case 'already_enrolled':
      return `${nameOf(err.detail)} is already in this browser: PushOTP keeps it as it is. Remove it first to enroll it again.`;
    case 'refused':
      return `privacyIDEA refused the enrollment (${err.message}). The link may be used up: ask for a new QR code.`;
    default:
      return `The token could not be added (${err?.message ?? err}).`;
  }
}

/**
 * Whether a link asks for an unlock before answers (`pin=True` or `app_force_unlock`).
 * @param {string} link
 */
const asksForPin = (link) => /[?&](pin=true|app_force_unlock=[^&]+)/i.test(link);

/** @param {string} link */
async function enroll(link) {
  const pin = $input('pi-pin').value;
  if (asksForPin(link) && !/^\d{4,64}$/.test(pin)) {
    $('pi-pin-row').hidden = false;
    // Without a vault password, a copied profile's masked seed needs only the PIN, guessed
    // online (docs/threat-model.md, Known limits).
    $('pi-pin-password').hidden = (await ask({ type: Message.VAULT_STATUS })).protected;
    say('This server asks for a PIN before each approval. Choose one of at least 4 digits, then press Add.', 'error');
    $('pi-pin').focus();
    return;
  }
  // Within the click (the browser asks the person only then), PushOTP asks to reach the server
  // of a link the core accepts; what is wrong with any other, the worker says.
  const server = serverOf(() => tools.piParseEnrollLink(link.trim()).url);
  const allowed = request([server]);
  busy(true);
  say('Creating a key for this browser and enrolling with privacyIDEA…');
  try {
    if (!(await allowed)) {
      throw coded('no_access', `PushOTP needs access to ${server ? new URL(server).host : 'the server'} to answer its push requests: the token was not added, and the link still works.`);
    }
    const { token } = await ask({ type: Message.PI_ENROLL, link: link.trim(), ...(asksForPin(link) && { pin }) });
    $input('pi-link').value = '';
    $input('pi-pin').value = '';
    $('pi-pin-row').hidden = true;
    say(`Added ${nameOf(token)} from ${token.issuer}.`, 'ok');
  } catch (err) {
    say(problem(err), 'error');
  } finally {
    busy(false);
  }
}

$('pi-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const link = $input('pi-link').value.trim();
  if (!link) {
    say('Paste a privacyIDEA enrollment link first, or scan its QR code.', 'error');
    return;
  }
  enroll(link);
});

/** @type {import('./scan.js').ScanKind} */
const PI_SCAN = {
  accepts: (text) => PIPUSH.test(text),
  wrong(tab, texts) {
    if (texts.some((text) => text.startsWith(ENROLL_PREFIX))) {
      return `The QR code in ${tabLabel(tab)} is a PushOTP activation link: add it under "Add a push token".`;
    }
    if (texts.some((text) => OTPAUTH.test(text))) {
      return `The QR code in ${tabLabel(tab)} is for a one-time code app, not a privacyIDEA push token. Add it under Everyday codes.`;
    }
    return `The QR code in ${tabLabel(tab)} is not a privacyIDEA push token.`;
  },
  what: 'the privacyIDEA QR code',
  status: $('pi-status'),
  button: $button('pi-scan'),
  choice: $('pi-tab-choice'),
  list: $('pi-tab-list'),
  setBusy: busy,
  async use([link]) {
    $input('pi-link').value = link;
    await enroll(link);
  },
};

$('pi-scan').addEventListener('click', () => scan(PI_SCAN));
$('pi-tab-choice-cancel').addEventListener('click', () => {
  hideTabChoice(PI_SCAN);
  say('');
  $('pi-scan').focus();
});

/** @param {{[serial: string]: PiToken}} tokens */
function renderTokens(tokens) {
  const list = Object.values(tokens).sort((a, b) => a.addedAt - b.addedAt);
  $('pi-none').hidden = list.length > 0;
  $('pi-tokens').replaceChildren(
    ...list.map((token) => {
      const item = document.createElement('li');
      item.className = 'token';
      item.dataset.serial = token.serial;
      const name = document.createElement('span');
      name.textContent = `${nameOf(token)} · ${new URL(token.url).host}`;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'secondary';
      remove.textContent = 'Remove';
      remove.setAttribute('aria-label', `Remove ${token.serial}`);
      remove.addEventListener('click', async () => {
        try {
          await ask({ type: Message.PI_REMOVE, serial: token.serial });
          say(`Removed ${token.serial} from this browser. Ask your administrator to delete it in privacyIDEA too.`);
        } catch (err) {
          say(`It could not be removed: ${err.message}`, 'error');
        }
      });
      item.append(name, remove);
      // Sites the person confirmed for filling this token's code-to-phone codes (the worker's
      // privacyidea.js); its privacyIDEA server's own pages need no confirmation.
      if (token.sites?.length) {
        const sites = document.createElement('p');
        sites.className = 'hint pi-sites';
        sites.textContent = `Fills codes into ${token.sites.map((site) => new URL(site).host).join(', ')} too.`;
        item.append(sites);
      }
      return item;
    }),
  );
}

onChanged((changes, area) => {
  if (area === 'local' && changes.piTokens) renderTokens(changes.piTokens.newValue ?? {});
});
piTokens().then(renderTokens);
