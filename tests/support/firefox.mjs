// Launches Debian's firefox-esr with the unpacked extension, driven through geckodriver (built
// from crates.io by scripts/setup.sh): WebDriver classic over HTTP on 127.0.0.1, spoken here
// with `fetch`, so no driver or browser is downloaded. Playwright drives no stock Firefox, and
// Firefox's remote agent refuses to navigate a driver to `moz-extension://` pages; extension
// pages are opened the way the browser's own user interface opens them (a tab added from the
// browser window's chrome context, which geckodriver's `--allow-system-access` permits).
//
// The extension is installed as a temporary add-on from its Firefox package, built afresh from
// the working tree (scripts/package-extension.mjs): what addons.mozilla.org would receive.
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageExtension } from '../../scripts/package-extension.mjs';
import { ROOT } from './root.mjs';
import { freePort } from './server.mjs';

export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
export const GECKODRIVER = process.env.GECKODRIVER ?? 'geckodriver';
/** WebDriver's key for an element reference in JSON. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** The Firefox version, or null when it (or its driver) is not installed. */
export function firefoxVersion() {
  try {
    execFileSync(GECKODRIVER, ['--version'], { stdio: 'ignore' });
    return execFileSync(FIREFOX, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/**
 * A WebDriver error, with the driver's code (`no such element`, `javascript error`, …).
 */
class WebDriverError extends Error {
  constructor(command, value) {
    super(`${command}: ${value?.error}: ${value?.message}`);
    this.code = value?.error;
  }
}

/**
 * Starts geckodriver and a headless Firefox with PushOTP installed.
 *
 * The browser's prompt for an optional site permission is a doorhanger no WebDriver command can
 * answer: `extensions.webextOptionalPermissionPrompts` off grants what the extension asks for,
 * and only then, within a person's click as Firefox requires (WebDriver clicks are real input).
 * `extensions.webextensions.uuids` fixes the extension's internal id, so its pages' addresses
 * are known.
 * @param {{prefs?: Record<string, unknown>}} [options]
 */
export async function launchFirefox({ prefs = {} } = {}) {
  const work = await mkdtemp(path.join(tmpdir(), 'pushotp-firefox-'));
  const packages = await packageExtension({ out: work });
  const xpi = /** @type {{file: string}} */ (packages.find((p) => p.target === 'firefox')).file;
  const manifest = JSON.parse(await readFile(path.join(ROOT, 'manifest.json'), 'utf8'));
  const geckoId = manifest.browser_specific_settings.gecko.id;
  const uuid = randomUUID();
  const port = await freePort();
  const driver = spawn(GECKODRIVER, ['--host', '127.0.0.1', '--port', String(port), '--binary', FIREFOX, '--allow-system-access'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOZ_HEADLESS: '1' },
  });
  /** The browser's console and the driver's own lines, for the errors check and for failures. */
  const output = [];
  const keep = (chunk) => output.push(...String(chunk).split('\n').filter(Boolean));
  driver.stdout.on('data', keep);
  driver.stderr.on('data', keep);
  const exited = new Promise((resolve) => driver.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;

  /** One WebDriver command; resolves with its `value`. */
  async function send(method, url, body) {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const { value } = await response.json();
    if (!response.ok) throw new WebDriverError(`${method} ${url}`, value);
    return value;
  }

  for (let tries = 0; ; tries++) {
    try {
      await send('GET', '/status');
      break;
    } catch (err) {
      if (tries > 100) throw new Error(`geckodriver did not start: ${err.message}\n${output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const created = await send('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        browserName: 'firefox',
        'moz:firefoxOptions': {
          binary: FIREFOX,
          args: ['-headless'],
          prefs: {
            'extensions.webextOptionalPermissionPrompts': false,
            'extensions.webextensions.uuids': JSON.stringify({ [geckoId]: uuid }),
            // The network here is closed: no updates, studies or remote settings.
            'app.update.enabled': false,
            'browser.shell.checkDefaultBrowser': false,
            'datareporting.policy.dataSubmissionEnabled': false,
            'toolkit.telemetry.enabled': false,
            'extensions.update.enabled': false,
            ...prefs,
          },
          log: { level: 'warn' },
        },
      },
    },
  });
  const session = `/session/${created.sessionId}`;
  const version = created.capabilities.browserVersion;
  await send('POST', `${session}/moz/addon/install`, { path: xpi, temporary: true });
  const origin = `moz-extension://${uuid}`;

  const command = (method, url, body) => send(method, `${session}${url}`, body);
  /** The window handle the driver is switched to. */
  let current = null;
  /** Runs `script` (a function's source, called with `args`) in the current window; its result. */
  const run = (script, ...args) => command('POST', '/execute/sync', { script: `return (${script}).apply(null, arguments);`, args });
  /** The same for an async function: awaits its promise. */
  const runAsync = (script, ...args) =>
    command('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1]; Promise.resolve((${script}).apply(null, Array.from(arguments).slice(0, -1))).then((value) => done({ value }), (err) => done({ error: String(err && err.stack || err) }));`,
      args,
    }).then((result) => {
      if (result?.error) throw new Error(result.error);
      return result?.value;
    });

  const browser = {
    version,
    origin,
    output,
    /** Opens a new tab at `url` (an extension page, or any other) and switches to it. */
    async open(url) {
      const before = new Set(await command('GET', '/window/handles'));
      await command('POST', '/moz/context', { context: 'chrome' });
      try {
        await run(
          `function (url) {
            const window = Services.wm.getMostRecentWindow('navigator:browser');
            const tab = window.gBrowser.addTab(url, { triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal() });
            window.gBrowser.selectedTab = tab;
          }`,
          url,
        );
      } finally {
        await command('POST', '/moz/context', { context: 'content' });
      }
      let handle;
      for (let tries = 0; !handle; tries++) {
        handle = (await command('GET', '/window/handles')).find((h) => !before.has(h));
        if (!handle && tries > 50) throw new Error(`no tab opened for ${url}`);
        if (!handle) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await command('POST', '/window', { handle });
      current = handle;
      return page(handle);
    },
    /** Runs a function's source in the browser window's chrome context (for the test hooks). */
    async chrome(script, ...args) {
      await command('POST', '/moz/context', { context: 'chrome' });
      try {
        return await run(script, ...args);
      } finally {
        await command('POST', '/moz/context', { context: 'content' });
      }
    },
    /**
     * Clicks PushOTP's toolbar button on `page`'s tab, as a person does: Firefox's own path for
     * it (the browser action's `triggerAction`, which its keyboard shortcut takes too) gives the
     * extension access to that tab for now (`activeTab`) and opens the popup, which is closed
     * again at once; the test then uses the popup in a tab (`openExtensionPage`). No WebDriver
     * command reaches the button itself: it sits in the extensions panel of the browser's chrome.
     */
    async clickToolbarButton(page) {
      // The person is on that tab: brought to the front even if the driver was there already.
      await command('POST', '/window', { handle: page.handle });
      current = page.handle;
      const url = await page.url();
      await browser.chrome(
        `function (id, url) {
          const window = Services.wm.getMostRecentWindow('navigator:browser');
          if (window.gBrowser.selectedBrowser.currentURI.spec !== url) throw new Error('the tab is not in front: ' + window.gBrowser.selectedBrowser.currentURI.spec);
          const extension = WebExtensionPolicy.getByID(id).extension;
          const { ExtensionParent } = ChromeUtils.importESModule('resource://gre/modules/ExtensionParent.sys.mjs');
          ExtensionParent.apiManager.global.browserActionFor(extension).triggerAction(window);
        }`,
        geckoId,
        url,
      );
      // Closed once it is open, as a person's popup closes: a popup closed while still loading
      // counts as never shown, and Firefox takes the tab's access back with it.
      const panel = `function () {
        return Services.wm.getMostRecentWindow('navigator:browser').document.getElementById('customizationui-widget-panel')?.state ?? 'none';
      }`;
      const end = Date.now() + 10_000;
      while ((await browser.chrome(panel)) !== 'open') {
        if (Date.now() > end) throw new Error('the popup did not open');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const granted = await browser.chrome(
        `function (id) {
          const window = Services.wm.getMostRecentWindow('navigator:browser');
          window.document.getElementById('customizationui-widget-panel').hidePopup();
          return WebExtensionPolicy.getByID(id).extension.tabManager.hasActiveTabPermission(window.gBrowser.selectedTab);
        }`,
        geckoId,
      );
      if (!granted) throw new Error('the toolbar button gave no access to the tab');
    },
    /** Opens one of the extension's pages (`popup.html`, `options.html`) in a new tab. */
    openExtensionPage(name) {
      return browser.open(`${origin}/extension/${name}`);
    },
    async close() {
      await command('DELETE', '').catch(() => {});
      driver.kill();
      await exited;
      await rm(work, { recursive: true, force: true });
    },
  };

  /**
   * A tab, addressed by its window handle: every call switches to it first (WebDriver has one
   * current window per session).
   */
  function page(handle) {
    // Switching brings the tab to the front, as a person's click on it would: only when another
    // tab is the driver's, so that waiting on a page does not take the front from a tab the
    // extension brought forward meanwhile (a QR code being scanned).
    const here = async () => {
      if (current === handle) return;
      await command('POST', '/window', { handle });
      current = handle;
    };
    /**
     * Waits until `check()` returns a truthy value; resolves with it. 20 s by default: on a busy
     * machine a request takes seconds to reach the background page.
     */
    async function until(check, what, timeout = 20_000) {
      const end = Date.now() + timeout;
      for (;;) {
        const value = await check().catch((err) => (err instanceof WebDriverError && err.code === 'no such element' ? null : Promise.reject(err)));
        if (value) return value;
        if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const find = async (css) => (await command('POST', '/element', { using: 'css selector', value: css }))[ELEMENT];
    const self = {
      handle,
      async goto(url) {
        await here();
        await command('POST', '/url', { url });
      },
      async url() {
        await here();
        return command('GET', '/url');
      },
      /** Runs a function's source in the page (its own world for extension pages). */
      async evaluate(script, ...args) {
        await here();
        return runAsync(String(script), ...args);
      },
      /** Waits for an element matching `css` that is shown; its WebDriver id. */
      async waitFor(css, timeout) {
        await here();
        return until(
          async () => {
            const id = await find(css);
            return (await command('GET', `/element/${id}/displayed`)) ? id : null;
          },
          `${css} to show`,
          timeout,
        );
      },
      /** Waits until the page's text holds `text`. */
      async waitForText(text, timeout) {
        await here();
        let last = '';
        try {
          return await until(async () => (last = await run('function () { return document.body ? document.body.innerText : ""; }')).includes(text), `"${text}"`, timeout);
        } catch (err) {
          err.message += `; the page said: ${last.replace(/\s+/g, ' ').slice(0, 1500)}`;
          throw err;
        }
      },
      /** The rendered text of the first element matching `css` (empty while it is hidden). */
      async text(css) {
        await here();
        const id = await until(() => find(css), css);
        return command('GET', `/element/${id}/text`);
      },
      /** A real click (WebDriver input: the page sees a trusted event) on the element. */
      async click(css) {
        const id = await self.waitFor(css);
        await command('POST', `/element/${id}/click`, {});
      },
      /** A real click on the first element matching `css` whose text is `text`, once shown. */
      async clickText(css, text) {
        await here();
        const element = await until(
          () => run('function (css, text) { return [...document.querySelectorAll(css)].find((e) => e.textContent.trim() === text && e.checkVisibility()) ?? null; }', css, text),
          `${css} "${text}"`,
        );
        await command('POST', `/element/${element[ELEMENT]}/click`, {});
      },
      /** Whether the first element matching `css` is enabled. */
      async enabled(css) {
        await here();
        return command('GET', `/element/${await until(() => find(css), css)}/enabled`);
      },
      /** Clears the field and types `text` into it, key by key. */
      async fill(css, text) {
        const id = await self.waitFor(css);
        await command('POST', `/element/${id}/clear`, {});
        await command('POST', `/element/${id}/value`, { text });
      },
      async value(css) {
        const id = await self.waitFor(css);
        return command('GET', `/element/${id}/property/value`);
      },
      async count(css) {
        await here();
        return (await command('POST', '/elements', { using: 'css selector', value: css })).length;
      },
      until,
      /** A PNG of the tab's viewport. */
      async screenshot() {
        await here();
        return Buffer.from(await command('GET', '/screenshot'), 'base64');
      },
      async close() {
        await here();
        await command('DELETE', '/window');
        const [first] = await command('GET', '/window/handles');
        current = null;
        if (first) await command('POST', '/window', { handle: first });
        current = first ?? null;
      },
    };
    return self;
  }

  return browser;
}

/**
 * Adds a push token from its activation link in the options page, as a person does: the link
 * pasted, Add clicked (Firefox asks for the server's site within that click), and the PIN chosen
 * twice when the server asks for one. Resolves once the options page lists `count` push tokens.
 * @param {Awaited<ReturnType<typeof launchFirefox>>} browser
 * @param {string} link
 * @param {{pin?: string|null, count?: number}} [options]
 */
export async function enrollInOptions(browser, link, { pin = null, count = 1 } = {}) {
  const options = await browser.openExtensionPage('options.html');
  await options.waitFor('body[data-ready="true"]');
  await options.fill('#link', link);
  await options.click('#add');
  if (pin) {
    await options.fill('#pin', pin);
    await options.fill('#pin-again', pin);
    await options.click('#pin-save');
  }
  await options.until(async () => (await options.count('#tokens > li')) === count, `${count} push tokens in the options page`);
  await options.close();
}
