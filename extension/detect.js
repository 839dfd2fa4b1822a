// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Finds the field a person would type a one-time code into: an `autocomplete="one-time-code"`
// input first, otherwise the best-scoring input by its name, id, labels and the text around it,
// or a row of single-digit boxes. A classic script loaded before content.js in the same isolated
// world; it shares its functions as `globalThis.pushotpDetect` (never visible to the page). The
// scoring is a pure function of an input's features, so it can be checked without a browser.
(() => {
  /** The least score a field needs to be filled. */
  const THRESHOLD = 5;
  /** The score of an `autocomplete="one-time-code"` field: always the best. */
  const ONE_TIME_CODE = 100;
  const TYPES = new Set(['', 'text', 'tel', 'number', 'password']);
  /** Autocomplete tokens of fields that hold something else than a code. */
  const OTHER_AUTOCOMPLETE = /^(username|email|tel.*|cc-.*|postal-code|current-password|new-password|street-address|address-.*|name|given-name|family-name|bday.*|organization|country.*)$/;

  /**
   * A pattern matched as whole words in text that `words` or `prose` made, where only spaces
   * and hyphens part words. (A boundary made of `\p{L}` classes would not need that, but takes
   * the browser several tenths of a millisecond to compile per pattern, at every page load.)
   */
  const bounded = (source) => new RegExp(`(?<![^ -])(?:${source})(?![^ -])`, 'u');

  // Words are matched in lower case, after names like `mfaCode` or `app_otp` are split into words.
  /** Names of a one-time code, in a few languages. */
  const STRONG =
    bounded(String.raw`one[ -]?time[ -]?(code|pass(word|code)?|pin|pw)|otp|totp|hotp|passcode|2fa|tfa|mfa|two[ -]?factor|2[ -]?step|two[ -]?step|multi[ -]?factor|(verification|security|authentication|authenticator|auth|login|sign[ -]?in|token|sms|\d[ -]?digit) code|authenticator app|bestätigungscode|einmalcode|verifizierungscode|sicherheitscode|anmeldecode|code de (vérification|sécurité|confirmation)|code à usage unique|código de (verificación|verificação|seguridad|segurança|acceso)|codice (di verifica|otp)|verificatiecode`);
  /** Words that hint at a code without naming it. */
  const MEDIUM = bounded(String.raw`code|codes|código|codice|kod|pin|token|verify|verification|verifizierung|vérification|verificación|authentication|authenticator|authentifizierung|digits?|confirm|enter code`);
  /** Fields that take a code of another kind, or no code at all: never filled. */
  const NEVER =
    bounded(String.raw`backup|recovery|recover|captcha|coupon|promo|promotion|voucher|gift|discount|postal|zip|zipcode|post ?code|area code|country code|cvc|cvv|csc|card|credit|search|reset|referral|invite|invitation|wiederherstellung|récupération|recuperación|recuperação|gutschein|postleitzahl|code postal|código postal`);
  /** Fields for something else, unless they also name a one-time code (`loginOtp`, `phone_otp`). */
  const OTHER =
    bounded(String.raw`phone|tel|telephone|mobile|msisdn|email|e[ -]?mail|mail|user|username|login|password|pass|pwd|name|address|city|country|amount|qty|quantity|date|year|month|birthday|age`);
  /** The same words glued together, as in `recoverycode` or `otpcode`. */
  const STRONG_GLUED = /(otp|passcode|onetime|2fa|mfa|twofactor|2step|twostep|multifactor|verificationcode|securitycode|authcode|authenticationcode)/;
  const NEVER_GLUED = /(backup|recover|captcha|coupon|promo|voucher|giftcard|discount|postal|zipcode|postcode|cardnumber|creditcard|ccnum|search|reset)/;

  /** Splits `mfaCode`, `app_otp` or `totp-pin` into lower-case words. */
  function words(text) {
    return String(text ?? '')
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
  }

  /** Lower-case text with its spacing collapsed, hyphens kept (`one-time`, `e-mail`). */
  function prose(text) {
    return String(text ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}-]+/gu, ' ')
      .trim();
  }

  /**
   * What the scoring knows of an input (`features` takes it from the page).
   * @typedef {object} Features
   * @property {string} [type]  the input's type
   * @property {string} [autocomplete]
   * @property {string} [name]
   * @property {string} [id]
   * @property {string} [label]  its labels' and aria-labelledby text
   * @property {string} [ariaLabel]
   * @property {string} [placeholder]
   * @property {string} [nearby]  text around it: its form or container, descriptions, the page title
   * @property {string} [inputMode]
   * @property {string} [pattern]
   * @property {number} [maxLength]  -1 when not set
   */

  /** The last texts around fields and what they hint: fields of one form or list share theirs. */
  const nearbyHints = new Map();

  /** What the text around a field adds to its score: 2 when it names a code, 1 when it hints. */
  function nearbyHint(text) {
    const key = String(text ?? '');
    let hint = nearbyHints.get(key);
    if (hint === undefined) {
      const nearby = prose(key);
      hint = STRONG.test(nearby) ? 2 : MEDIUM.test(nearby) ? 1 : 0;
      if (nearbyHints.size >= 64) nearbyHints.clear();
      nearbyHints.set(key, hint);
    }
    return hint;
  }

  /**
   * How much an input looks like the one-time-code field, from its features alone; 0 when it
   * must never be filled or is not a code field (scores under THRESHOLD).
   * @param {Features} f
   * @returns {number}
   */
  function score(f) {
    const type = String(f.type ?? '').toLowerCase();
    if (!TYPES.has(type)) return 0;
    const maxLength = f.maxLength ?? -1;
    if (maxLength >= 0 && maxLength < 6) return 0;
    const attributes = words(`${f.name ?? ''} ${f.id ?? ''}`);
    const glued = attributes.replace(/ /g, '');
    const own = prose(`${f.label ?? ''} ${f.ariaLabel ?? ''} ${f.placeholder ?? ''}`);
    // Even a backup or recovery code field marked as a one-time code is never filled.
    const never = () => NEVER.test(attributes) || NEVER_GLUED.test(glued) || NEVER.test(own);
    const autocomplete = String(f.autocomplete ?? '').toLowerCase().split(/\s+/);
    if (autocomplete.includes('one-time-code')) return never() ? 0 : ONE_TIME_CODE;

    // What a field's own words and shape give comes first: most fields of a page (a comment, a
    // search, an address) reach nothing with them, and are let go without more tests.
    const strongAttribute = STRONG.test(attributes) || STRONG_GLUED.test(glued);
    const strongOwn = STRONG.test(own);
    let hints = 0;
    // A name or a label that names a one-time code is enough on its own; a hint needs more.
    if (strongAttribute) hints += 5;
    else if (MEDIUM.test(attributes)) hints += 2;
    if (strongOwn) hints += 5;
    else if (MEDIUM.test(own)) hints += 3;

    let shape = 0;
    if (String(f.inputMode ?? '').toLowerCase() === 'numeric') shape += 1;
    if (/\\d|0-9/.test(String(f.pattern ?? ''))) shape += 1;
    if (type === 'tel' || type === 'number') shape += 1;
    if (maxLength >= 6 && maxLength <= 8) shape += 2;
    shape = Math.min(shape, 3);
    // The text around adds at most 2, and is what costs most to read from a page (`features`
    // reads it only when asked): a field that cannot reach the threshold with it is not asked.
    if (hints + 2 + shape < THRESHOLD) return 0;

    if (never()) return 0;
    if (autocomplete.some((token) => OTHER_AUTOCOMPLETE.test(token))) return 0;
    if (!strongAttribute && !strongOwn && (OTHER.test(attributes) || OTHER.test(own))) return 0;
    hints += nearbyHint(f.nearby);
    if (hints === 0) return 0;
    const total = hints + shape;
    return total >= THRESHOLD ? total : 0;
  }

  /**
   * How much a row of single-character boxes looks like a split one-time-code field; 0 when it
   * must never be filled. `first` holds the features of its first box, `labels` those of every box.
   * @param {{count: number, first: Features, labels: string[], nearby: string}} g
   */
  function groupScore(g) {
    if (g.count < 4 || g.count > 8) return 0;
    if (!TYPES.has(String(g.first.type ?? '').toLowerCase())) return 0;
    const attributes = words(`${g.first.name ?? ''} ${g.first.id ?? ''}`);
    const own = prose(g.labels.join(' '));
    if (NEVER.test(attributes) || NEVER_GLUED.test(attributes.replace(/ /g, '')) || NEVER.test(own)) return 0;
    let total = 4;
    if (g.count === 6) total += 1;
    if (String(g.first.autocomplete ?? '').toLowerCase().includes('one-time-code')) total += 4;
    if (STRONG.test(attributes) || STRONG.test(own) || STRONG_GLUED.test(attributes.replace(/ /g, ''))) total += 4;
    else if (MEDIUM.test(attributes) || MEDIUM.test(own)) total += 2;
    const nearby = prose(g.nearby);
    if (STRONG.test(nearby)) total += 2;
    else if (MEDIUM.test(nearby)) total += 1;
    const t = String(g.first.type ?? '').toLowerCase();
    if (String(g.first.inputMode ?? '').toLowerCase() === 'numeric' || t === 'tel' || t === 'number') total += 1;
    return total;
  }

  // ---- The page ----------------------------------------------------------------------------

  const clip = (text, length = 400) => String(text ?? '').replace(/\s+/g, ' ').trim().slice(0, length);

  /** Whether an element is shown: rendered, not hidden by itself or an ancestor, on the page. */
  function shown(element) {
    if (element.checkVisibility) {
      if (!element.checkVisibility({ checkVisibilityCSS: true })) return false;
    } else if (getComputedStyle(element).visibility !== 'visible') {
      return false;
    }
    const box = element.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return false;
    // Moved off the page, as fields kept from people (and filled by bots) are.
    return box.right + scrollX > 0 && box.bottom + scrollY > 0;
  }

  /** Whether a person could type into the input: shown, enabled, writable. */
  function fillable(input) {
    if (input.type === 'hidden' || input.disabled || input.readOnly || input.matches(':disabled')) return false;
    return shown(input);
  }

  function textOf(document, ids) {
    return (ids ?? '')
      .split(/\s+/)
      .map((id) => (id ? document.getElementById(id)?.textContent ?? '' : ''))
      .join(' ');
  }

  /**
   * What `clip(node.textContent, length)` gives, reading only as many of its text nodes as that
   * needs: the container of a field on a long page (a feed, a table) holds far more text than
   * the few hundred characters ever used, and is read for every field at every scan.
   */
  function textStart(node, length = 400) {
    if (!node) return '';
    const walker = node.ownerDocument.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    let raw = '';
    while (walker.nextNode()) {
      raw += /** @type {Text} */ (walker.currentNode).data;
      // Text after this only comes after what is kept, once enough is there.
      if (raw.length >= length && clip(raw, length).length >= length) break;
    }
    return clip(raw, length);
  }

  /** The text around an element: its form or a container a few levels up, and the page title. */
  function around(element, levels = 3) {
    let container = element.parentElement;
    for (let i = 1; i < levels && container?.parentElement && !container.matches('form, fieldset, dialog, [role=dialog]'); i++) {
      container = container.parentElement;
    }
    return `${textStart(container)} ${clip(element.ownerDocument.title, 120)}`;
  }

  /**
   * The labels of the page's fields that name them (`<label for>`), by field id: read once a
   * scan. An input's own `labels` looks through the whole page each time it is read, which on a
   * long page with many fields costs more than all the rest of the scan.
   * @param {Document} document
   * @returns {Map<string, string[]>}
   */
  function labelsFor(document) {
    const map = new Map();
    for (const label of document.querySelectorAll('label[for]')) {
      const id = label.getAttribute('for') ?? '';
      map.set(id, [...(map.get(id) ?? []), label.textContent ?? '']);
    }
    return map;
  }

  /**
   * The text of an input's labels, as its `labels` gives them: those that name its id, and the
   * label it sits in when that one names no other field.
   * @param {HTMLInputElement} input
   * @param {() => Map<string, string[]>} byId  `labelsFor` of its page, read only for an input
   *   with an id
   */
  function labelTexts(input, byId) {
    const texts = input.id ? [...(byId().get(input.id) ?? [])] : [];
    const holder = input.parentElement?.closest('label');
    if (holder && !holder.hasAttribute('for')) texts.push(holder.textContent ?? '');
    return texts;
  }

  /**
   * The features `score` reads, taken from an input on the page.
   * @param {HTMLInputElement} input
   * @param {() => Map<string, string[]>} [byId]  `labelsFor` of its page, read once a scan
   */
  function features(input, byId = () => labelsFor(input.ownerDocument)) {
    const document = input.ownerDocument;
    const labels = labelTexts(input, byId);
    /** @type {string|undefined} */
    let nearby;
    return {
      type: input.type,
      autocomplete: input.getAttribute('autocomplete') ?? '',
      name: input.name,
      id: input.id,
      label: clip(`${labels.join(' ')} ${textOf(document, input.getAttribute('aria-labelledby'))}`),
      ariaLabel: input.getAttribute('aria-label') ?? '',
      placeholder: input.placeholder ?? '',
      // Read when `score` asks (the walk through the page's text is the costliest part), once.
      get nearby() {
        return (nearby ??= `${clip(textOf(document, input.getAttribute('aria-describedby')))} ${clip(input.title)} ${around(input)}`);
      },
      inputMode: input.getAttribute('inputmode') ?? '',
      pattern: input.getAttribute('pattern') ?? '',
      maxLength: input.maxLength,
    };
  }

  /** Whether `b` sits close to `a`: within a few levels above `a`, and in the same form. */
  function sameRow(a, b) {
    if (a.form !== b.form) return false;
    let up = a.parentElement;
    for (let i = 0; i < 3 && up; i++, up = up.parentElement) if (up.contains(b)) return true;
    return false;
  }

  /** The lowest element holding all the given ones. */
  function commonAncestor(elements) {
    let up = elements[0].parentElement;
    while (up && !elements.every((e) => up.contains(e))) up = up.parentElement;
    return up ?? elements[0].ownerDocument.documentElement;
  }

  /** Whether an input is of a type a code can be typed into (not hidden, a box, a button…). */
  const isField = (/** @type {HTMLInputElement} */ input) => TYPES.has(input.type);

  /** Fields looked at in one scan at most: enough for any login page, cheap on huge ones. */
  const MAX_INPUTS = 500;

  /**
   * Every place on the page a code could go, best first: `{ inputs, score }` with one input for
   * a field and 4 to 8 for a row of boxes (one character each). `root` is the page, or a part of
   * it that a change added (only its inputs are looked at).
   * @param {Document|Element} root
   * @param {number} [limit]  how many of its fields (inputs of a type a code can go into) to look
   *   at, at most
   */
  function candidates(root, limit = MAX_INPUTS) {
    /** @type {Map<string, string[]>|null} */
    let labels = null;
    const byId = () => (labels ??= labelsFor(root.ownerDocument ?? /** @type {Document} */ (root)));
    const inputs = [];
    let looked = 0;
    for (const input of root.getElementsByTagName('input')) {
      // Hidden fields, boxes and buttons do not count.
      if (!isField(input)) continue;
      if (++looked > Math.min(limit, MAX_INPUTS)) break;
      // Whether a person can type into a field makes the browser lay the page out: asked at
      // once only of single-character boxes (a row is made of the boxes shown), of other
      // fields only when it matters, below.
      if (input.maxLength !== 1 || fillable(input)) inputs.push(input);
    }
    const found = [];
    let row = [];
    const closeRow = () => {
      if (row.length >= 4 && row.length <= 8) {
        const first = features(row[0], byId);
        const labels = row.map((box) => `${box.getAttribute('aria-label') ?? ''} ${[...(box.labels ?? [])].map((l) => l.textContent).join(' ')} ${box.placeholder}`);
        const value = groupScore({ count: row.length, first, labels, nearby: around(commonAncestor(row)) });
        if (value >= THRESHOLD) found.push({ inputs: row, score: value });
      }
      row = [];
    };
    for (const input of inputs) {
      if (input.maxLength === 1) {
        if (row.length && !sameRow(row[row.length - 1], input)) closeRow();
        row.push(input);
        continue;
      }
      // A field a person cannot type into does not end a row of boxes, and is no candidate.
      if (row.length) {
        if (!fillable(input)) continue;
        closeRow();
      }
      const value = score(features(input, byId));
      if (value >= THRESHOLD && fillable(input)) found.push({ inputs: [input], score: value });
    }
    closeRow();
    // Stable: among equal scores the first on the page wins.
    return found.sort((a, b) => b.score - a.score);
  }

  /** Whether a passcode fits a candidate: a field long enough, or one box per digit. */
  function fits(candidate, passcode) {
    const [first] = candidate.inputs;
    if (candidate.inputs.length > 1) return candidate.inputs.length === passcode.length;
    return first.maxLength < 0 || first.maxLength >= passcode.length;
  }

  globalThis.pushotpDetect = Object.freeze({ THRESHOLD, score, groupScore, words, shown, fillable, features, isField, candidates, fits });
})();
