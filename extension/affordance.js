// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// A small PushOTP button at the end of the one-time-code field detect.js finds, shown only when
// the person keeps a token confirmed for this page's origin. A click (a real one: page scripts
// cannot click it) asks the service worker to fill that token's code into this frame. The button
// lives in a closed shadow root, so the page can neither style nor read it. A frame with an
// ancestor of another origin (a site framed by another page, which could lure the person into
// clicking) shows no button and asks nothing: a click there would spend an HOTP code for a fill
// that is refused. The worker checks the frames again itself (page.js).
(() => {
  /** The messages this script sends: the same names and values as messages.js `FromPage`. */
  const FromPage = Object.freeze({
    TOKENS: 'page.tokens',
    FILL: 'page.fill',
  });
  /**
   * Sends one of the messages above, typed by the protocol (messages.js `FromContent`), which a
   * classic script can name but not import.
   * @param {import('./messages.js').FromContent} message
   */
  const send = (message) => chrome.runtime.sendMessage(message);
  /** How often the page is looked at for inputs it did not have before. */
  const RESCAN_MS = 500;
  /**
   * Fields of a page looked at without the person doing anything: more than any sign-in or
   * code step has (a row of eight boxes among a dozen others). Beyond them (a feed, a long
   * form), a field is looked at when the person goes to it: every field of such a page would
   * cost the page more than its 2 % budget (BENCHMARKS.md), for a field that gets the focus
   * when it matters.
   */
  const LOOK_BUDGET = 20;
  /** A page that shows no code field for this long is left alone. */
  const WATCH_MS = 5 * 60_000;
  const SIZE = 22;
  const detect = globalThis.pushotpDetect;

  let tokens = null; // the worker's answer, asked once per page
  let field = null;
  let host = null;
  /** 1 while a look runs. */
  let rescan = 0;
  /** The timer that looks for new inputs, while it runs. */
  let watch = 0;
  /** The fields looked at so far without a focus (of LOOK_BUDGET). */
  let spent = 0;

  /**
   * Whether every frame above this one has this frame's document origin (content.js `inOrigin`
   * holds fills to the same rule). A sandboxed document (opaque origin) is no site's.
   */
  function ownFraming() {
    const origin = window.origin;
    if (origin !== location.origin) return false;
    const ancestors = location.ancestorOrigins;
    if (ancestors) return [...ancestors].every((o) => o === origin);
    // Without ancestorOrigins (Firefox), walk up: a frame of another origin cannot be read.
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

  async function tokensHere() {
    if (!tokens) {
      const reply = await send({ type: FromPage.TOKENS }).catch(() => null);
      tokens = reply?.ok ? reply.tokens : [];
    }
    return tokens;
  }

  function place() {
    if (!host || !field?.isConnected) return;
    const box = field.getBoundingClientRect();
    host.style.left = `${box.right + window.scrollX - SIZE - 4}px`;
    host.style.top = `${box.top + window.scrollY + (box.height - SIZE) / 2}px`;
  }

  function button(label, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('aria-label', label);
    b.title = label;
    b.addEventListener('click', (event) => {
      event.preventDefault();
      event.stopPropagation();
      if (event.isTrusted) onClick();
    });
    return b;
  }

  /** No more looks for new inputs: the budget is spent, the field was filled, or none showed in time. */
  function stopWatching() {
    clearInterval(watch);
    watch = 0;
  }

  /** Nothing more to do on this page: the field was filled. */
  function stopAll() {
    stopWatching();
    document.removeEventListener('focusin', focused, true);
  }

  function fillWith(id) {
    send({ type: FromPage.FILL, id })
      .then((reply) => {
        // Filled: the page has its code, and nothing is left to look for.
        if (reply?.ok && reply.filled) stopAll();
      })
      .catch(() => null);
    menu?.remove();
    menu = null;
  }

  let menu = null;
  function toggleMenu(root, list) {
    if (menu) {
      menu.remove();
      menu = null;
      return;
    }
    menu = document.createElement('div');
    menu.className = 'menu';
    menu.setAttribute('role', 'menu');
    for (const t of list) {
      const item = button(`Fill the code of ${t.issuer}${t.account ? ` (${t.account})` : ''}`, () => fillWith(t.id));
      item.setAttribute('role', 'menuitem');
      item.textContent = t.account ? `${t.issuer} · ${t.account}` : t.issuer;
      menu.append(item);
    }
    root.append(menu);
    menu.querySelector('button')?.focus();
  }

  function show(list) {
    host = document.createElement('pushotp-fill');
    host.style.cssText = `position:absolute;z-index:2147483647;width:${SIZE}px;height:${SIZE}px;margin:0;padding:0;border:0;`;
    const root = host.attachShadow({ mode: 'closed' });
    const style = document.createElement('style');
    style.textContent = `
      :host { all: initial; }
      button { all: initial; box-sizing: border-box; cursor: pointer; font: 13px system-ui, sans-serif; }
      .icon { display: grid; place-items: center; width: ${SIZE}px; height: ${SIZE}px; border-radius: 6px; background: #1f4fd1; color: #fff; }
      .icon:focus-visible, .menu button:focus-visible { outline: 2px solid #1f4fd1; outline-offset: 2px; }
      .menu { position: absolute; right: 0; top: ${SIZE + 4}px; display: grid; min-width: 180px; background: #fff; color: #1b1f29; border: 1px solid #c5cad6; border-radius: 6px; box-shadow: 0 4px 12px rgb(0 0 0 / 0.2); }
      .menu button { padding: 8px 10px; }
      .menu button:hover { background: #eef2fd; }`;
    const label = list.length === 1 ? `Fill the code of ${list[0].issuer} from PushOTP` : 'Fill a code from PushOTP';
    const icon = button(label, () => (list.length === 1 ? fillWith(list[0].id) : toggleMenu(root, list)));
    icon.className = 'icon';
    // The shield of the toolbar icon, drawn inline so that no extension file has to be exposed.
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('width', '14');
    svg.setAttribute('height', '14');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3Zm-1.2 14.2-3.5-3.5 1.4-1.4 2.1 2.1 4.6-4.6 1.4 1.4-6 6Z');
    svg.append(path);
    icon.append(svg);
    root.append(style, icon);
    document.body.append(host);
    place();
    window.addEventListener('resize', place, { passive: true });
    window.addEventListener('scroll', place, { passive: true, capture: true });
  }

  /**
   * Finds the code field and shows the button at it. `roots`: the parts of the page that changes
   * added since the last look, the only ones looked at while no field was found (a page that
   * keeps adding content, a feed, is not scanned whole again and again); the whole page at
   * load (its first `limit` inputs), and when the field found went away.
   * @param {Element[]|null} [roots]
   * @param {number} [limit]
   */
  async function look(roots = null, limit = undefined) {
    rescan = 0;
    if (host && field?.isConnected && detect.fillable(field)) {
      place();
      return;
    }
    host?.remove();
    host = null;
    const scope = field || !roots ? [document] : roots;
    const [best] = scope.flatMap((root) => detect.candidates(root, limit)).sort((a, b) => b.score - a.score);
    field = best ? best.inputs[best.inputs.length === 1 ? 0 : best.inputs.length - 1] : null;
    if (!field) return;
    const list = await tokensHere();
    if (list.length && field?.isConnected && !host) show(list);
  }

  /**
   * An input the person went to, on a page whose other inputs were not all looked at (or that
   * was hidden when they were): the part of the page it sits in is looked at now.
   * @param {FocusEvent} event
   */
  function focused(event) {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input === field || rescan) return;
    if (host && field?.isConnected) return;
    rescan = 1;
    look([input.parentElement ?? input]).finally(looked);
  }

  /**
   * Counts a finished look in the isolated world's marks (content.js), which the page cannot
   * see: DevTools (and the end-to-end tests) read it, so that "no button" is known to be the
   * scan's answer, not a scan that never ran.
   */
  const looked = () => {
    (globalThis.pushotpMarks ??= { ready: false, scans: 0 }).scans++;
  };

  if (!detect || !document.body) return;
  if (!ownFraming()) {
    // Inside a page of another origin: no button, nothing asked, and that is the look's answer.
    looked();
    return;
  }
  // One question to the worker first: a page with no token confirmed for its origin (a push
  // token's server or sign-in page) has nothing to offer, and is neither scanned nor watched.
  tokensHere().then((list) => {
    if (!list.length) {
      looked();
      return;
    }
    // The page's inputs, as the browser keeps them (a live list), and those looked at already.
    // No MutationObserver: observing a page makes every change to it cost more (a feed makes
    // thousands); a look twice a second at this list finds the inputs a change brought, and
    // looks into those only, up to the budget; then only where the person goes.
    const inputs = document.getElementsByTagName('input');
    // The fields the first look takes (detect.js counts them the same way), up to the budget.
    for (const input of inputs) if (detect.isField(input) && ++spent >= LOOK_BUDGET) break;
    look(null, LOOK_BUDGET).finally(looked);
    document.addEventListener('focusin', focused, true);
    // Kept only while the budget lasts: the inputs of a page that spent it at load are left to
    // a focus, and are not even listed.
    const seen = new WeakSet(spent < LOOK_BUDGET ? inputs : []);
    /**
     * The parents of the fields not looked at yet, within the budget (a row of boxes is looked
     * at whole); those beyond it are left to a focus.
     */
    const fresh = () => {
      const roots = new Set();
      for (const input of spent < LOOK_BUDGET ? inputs : []) {
        if (seen.has(input)) continue;
        seen.add(input);
        if (!detect.isField(input)) continue;
        roots.add(input.parentElement ?? input);
        if (++spent >= LOOK_BUDGET) break;
      }
      return [...roots];
    };
    watch = setInterval(() => {
      if (rescan) return;
      const roots = fresh();
      if (roots.length || (field && !field.isConnected)) {
        rescan = 1;
        look(roots).finally(looked);
      } else if (spent >= LOOK_BUDGET && !host) {
        // Nothing shown and the budget spent: inputs are looked at when the person goes to them.
        stopWatching();
      }
    }, RESCAN_MS);
    setTimeout(() => {
      if (!host) stopWatching();
    }, WATCH_MS);
  });
})();
