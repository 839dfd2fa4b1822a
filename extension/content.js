// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The content script of every page: fills a passcode the service worker hands over after an
// approval, into this frame's one-time-code field (or row of digit boxes, see detect.js), as a
// person would type it, and only when this frame and every frame above it have the origin the
// request came from; and reads, for the worker, the binding the login page of a push request
// carries (its `pushotp-binding` meta tag), under the same origin rule. A classic script (content
// scripts cannot be modules), so it is wrapped to keep its names out of the isolated world it
// shares with detect.js.
(() => {
  /** The messages this script takes: the same names and values as messages.js `PageMessage`. */
  const PageMessage = Object.freeze({
    FILL_PASSCODE: 'fill.passcode',
    BINDING_READ: 'binding.read',
  });
  /** A login page's binding: 16 random bytes, unpadded base64url. */
  const BINDING = /^[A-Za-z0-9_-]{22}$/;
  const PASSCODE = /^\d{6,10}$/;
  /**
   * privacyIDEA's code-to-phone display codes (two digits in 3.14), marked `display` by the
   * worker, which sends them only to a token's trusted origins (privacyidea.js).
   */
  const DISPLAY_CODE = /^\d{2,10}$/;
  /** How long a passcode that found no field waits for one to appear (single-page apps). */
  const WAIT_MS = 15_000;
  /** Rescans while a passcode waits come at most this often. */
  const RESCAN_MS = 200;
  /** How long the top frame of a page with frames gives them to answer first. */
  const FRAMES_ANSWER_MS = 250;
  /** The pause between filling and submitting, for pages that react to the code first. */
  const SUBMIT_MS = 50;
  // Loaded once a frame: by the registration of the site, or by the worker on demand (access.js
  // `inject`) where the page was open before; a second copy would fill twice.
  if (globalThis.pushotpMarks?.ready) return;
  const detect = globalThis.pushotpDetect;
  const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;

  /**
   * Whether this frame and every frame above it have the origin. The document's own origin
   * (`window.origin`) counts, not only its address's (`location.origin`): a sandboxed frame or a
   * page served with a CSP sandbox has an address of the origin but an opaque origin ("null"),
   * and its scripts are no longer the origin's.
   */
  function inOrigin(origin) {
    if (typeof origin !== 'string' || location.origin !== origin || window.origin !== origin) return false;
    const ancestors = location.ancestorOrigins;
    if (ancestors) return [...ancestors].every((o) => o === origin);
    // Without ancestorOrigins (Firefox), walk up: a frame of another origin, opaque ones
    // included, cannot be read.
    try {
      for (let view = /** @type {Window} */ (window); view !== view.top; ) {
        view = view.parent;
        if (view.location.origin !== origin || view.origin !== origin) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  function key(input, type, character) {
    const code = character.charCodeAt(0);
    input.dispatchEvent(
      new KeyboardEvent(type, { key: character, code: `Digit${character}`, keyCode: code, which: code, bubbles: true, cancelable: true, composed: true }),
    );
  }

  /**
   * Types text at the end of an input as a person would: a key down, the value through the
   * native setter (so frameworks that track the value, like React, see a change), an `input`
   * event and a key up per character, then `change`.
   */
  function typeInto(input, text) {
    input.focus();
    if (input.value !== '') {
      setValue.call(input, '');
      input.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true, inputType: 'deleteContentBackward' }));
    }
    for (const character of text) {
      key(input, 'keydown', character);
      setValue.call(input, input.value + character);
      input.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true, inputType: 'insertText', data: character }));
      key(input, 'keyup', character);
    }
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  const digitsOf = (inputs) => inputs.map((input) => input.value).join('').replace(/\D/g, '');

  /** Fills a field, or a row of boxes one digit each; true when the page kept the passcode. */
  function fill(target, passcode) {
    const { inputs } = target;
    if (inputs.length === 1) typeInto(inputs[0], passcode);
    else inputs.forEach((box, i) => typeInto(box, passcode[i]));
    return digitsOf(inputs) === passcode;
  }

  const SUBMIT = /\b(verify|continue|submit|sign ?in|log ?in|next|confirm|done|ok|weiter|bestätigen|anmelden|valider|continuer|vérifier|verificar|continuar|enviar|avanti|verifica)\b/i;
  const NOT_SUBMIT = /\b(cancel|back|resend|again|another|try|help|recovery|backup|abbrechen|zurück|annuler|cancelar)\b/i;

  /** Without a form: the button next to the field that sends the code, if one clearly does. */
  function submitButton(input) {
    const name = (b) => `${b.textContent} ${b.value ?? ''} ${b.getAttribute('aria-label') ?? ''}`;
    for (let up = input.parentElement, level = 0; up && level < 6; up = up.parentElement, level++) {
      const buttons = [...up.querySelectorAll('button, input[type=submit], input[type=button], [role=button]')].filter(
        (b) => !b.disabled && detect.shown(b) && !NOT_SUBMIT.test(name(b)),
      );
      const button = buttons.find((b) => SUBMIT.test(name(b))) ?? (buttons.length === 1 ? buttons[0] : null);
      if (button) return button;
    }
    return null;
  }

  /** Submits the filled code, unless the page already moved on by itself. */
  function submitSoon(target, passcode) {
    setTimeout(() => {
      const last = target.inputs.at(-1);
      if (!target.inputs.every((i) => i.isConnected && detect.fillable(i)) || digitsOf(target.inputs) !== passcode) return;
      if (last.form) last.form.requestSubmit();
      else submitButton(last)?.click();
    }, SUBMIT_MS);
  }

  /** The best place on the page as it is now that the passcode fits. */
  function findTarget(passcode) {
    return detect.candidates(document).find((candidate) => detect.fits(candidate, passcode)) ?? null;
  }

  // ---- A passcode waiting for its field ----------------------------------------------------
  // The fill looks at the page as it is when the passcode arrives, so fields added since the
  // page loaded are found. A passcode that finds none waits a little while for one to appear,
  // watching the page only for that while.

  let waiting = null; // { origin, passcode, submit, until }
  let observer = null;
  let rescan = 0;

  function stopWaiting() {
    waiting = null;
    observer?.disconnect();
    clearTimeout(rescan);
    rescan = 0;
  }

  function tryWaiting() {
    rescan = 0;
    if (!waiting) return;
    if (Date.now() > waiting.until || !inOrigin(waiting.origin)) {
      stopWaiting();
      return;
    }
    const target = findTarget(waiting.passcode);
    if (!target) return;
    const { passcode, submit } = waiting;
    stopWaiting();
    if (fill(target, passcode) && submit) submitSoon(target, passcode);
  }

  function wait(origin, passcode, submit) {
    stopWaiting();
    waiting = { origin, passcode, submit, until: Date.now() + WAIT_MS };
    observer ??= new MutationObserver(() => {
      if (!rescan) rescan = setTimeout(tryWaiting, RESCAN_MS);
    });
    // New nodes, and fields or steps that are shown, enabled or made writable.
    observer.observe(document.documentElement, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['class', 'style', 'hidden', 'type', 'disabled', 'readonly', 'open'],
    });
    setTimeout(tryWaiting, WAIT_MS + RESCAN_MS);
  }

  /**
   * The binding of this frame's login page for a push request of `origin`: only in a frame whose
   * document, and every document above it, has that origin (a page of another site that frames
   * the login page, or a sandboxed copy of it, is not the login page in front of the person),
   * and only when the document carries exactly one well-formed binding.
   */
  function bindingOf(origin) {
    if (!inOrigin(origin)) return null;
    const tags = document.querySelectorAll('meta[name="pushotp-binding"]');
    // Only the page's own head: what a site lets its users write (a comment, a wiki page) goes
    // into the body, where a relay that fetched a binding for its own sign-in could have it
    // written into a page of the right origin.
    if (tags.length !== 1 || tags[0].parentElement !== document.head) return null;
    const binding = tags[0].getAttribute('content');
    return typeof binding === 'string' && BINDING.test(binding) ? binding : null;
  }

  chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id) return false;
    if (message?.type === PageMessage.BINDING_READ) {
      // Asked of one frame at a time (binding.js): each answers, with no binding when it has none.
      const binding = bindingOf(message.origin);
      sendResponse(binding === null ? {} : { binding });
      return false;
    }
    if (message?.type !== PageMessage.FILL_PASSCODE) return false;
    const isTop = window === window.top;
    const { origin, passcode, submit } = message;
    const valid = typeof passcode === 'string' && (message.display === true ? DISPLAY_CODE : PASSCODE).test(passcode);
    // The worker asks each frame of the origin on its own (fill.js). A message sent to every
    // frame at once gets one answer: only the top frame answers a refusal, so that the answer
    // of a frame that filled is the one its sender gets.
    if (!valid || !inOrigin(origin)) {
      if (isTop) sendResponse({ filled: false });
      return false;
    }
    const target = findTarget(passcode);
    if (target) {
      const filled = fill(target, passcode);
      if (filled && submit) submitSoon(target, passcode);
      sendResponse({ filled });
      return false;
    }
    wait(origin, passcode, Boolean(submit));
    if (!isTop) return false;
    if (window.frames.length === 0) {
      sendResponse({ filled: false });
      return false;
    }
    setTimeout(() => sendResponse({ filled: false }), FRAMES_ANSWER_MS);
    return true;
  });

  // In the content scripts' isolated world, which the page cannot see: the fill listener is in
  // place. DevTools (and the end-to-end tests) read it, so that a frame left unfilled is known
  // to have refused, not to have lacked the script.
  (globalThis.pushotpMarks ??= { ready: false, scans: 0 }).ready = true;
})();
