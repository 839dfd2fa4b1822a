// What the content scripts cost the pages a person opens (a timing script, not a test): two
// test pages, each loaded afresh in three configurations taken in turn, round after round, in
// one run:
//
//   none       a Chromium without the extension
//   unrelated  Chromium with the extension, the page on an origin no token uses
//   confirmed  the same browser, the page on a site the person confirmed for an everyday token
//
// For each load: the page's own time for its workload (wall), and from the start of its load to
// a second after its workload the CPU time of the page's renderer main thread, where the page's
// scripts, the content scripts' isolated world, style and layout all run: as the kernel counts
// it (page CPU), and as DevTools' `Performance.getMetrics` does (TaskDuration, the wall time of
// the thread's tasks, and ScriptDuration). Each round also loads each page once more on the
// confirmed site under V8's sampling profiler, which tells PushOTP's share of the page's main
// thread apart: the samples with one of its scripts on the stack, native calls made from them
// included. Budgets (BENCHMARKS.md): on the unrelated origin no measurable difference in page
// CPU; on the confirmed site a share under 2 % that the page CPU does not contradict. The script
// exits non-zero when one is missed.
//
//   scripts/build-wasm.sh   # once, as for the end-to-end tests
//   node scripts/bench-pages.mjs [--rounds 15] [--json]
//
// The pages (served by this script, on 127.0.0.1 only):
//
//   mutations  a feed that grows by 5,000 elements in 50 tasks, every 20th with a labelled
//              input: what a single-page app does, and what the content scripts' observers see
//   inputs     50 forms of 10 fields (500 inputs) in the HTML, then a script that types into
//              each text field and adds 10 forms of 5 fields in further tasks
//
// Neither has a one-time-code field: on a confirmed site that is the scanner's longest path (it
// looks at every input, finds nothing, and keeps watching the page).
//
// Both host names point at the same server (`--host-resolver-rules`): host permissions and
// registered content scripts ignore ports, so two origins need two names. Linux only: the CPU
// times are read from /proc.
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, launchWithExtension } from '../tests/support/browser.mjs';

const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] || 0) || 15;
const JSON_OUT = args.includes('--json');
const log = (...line) => (JSON_OUT ? console.error : console.log)(...line);

const UNRELATED = 'unrelated.test';
const CONFIRMED = 'confirmed.test';
/** After `load`: the content scripts run at document_idle, at the latest just after `load`, then scan once. */
const SETTLE_MS = 500;
/**
 * After the workload: the scanner's rescans wait up to 500 ms after a change (affordance.js
 * RESCAN_MS) and then ask the worker; what they cost the page belongs to its workload.
 */
const QUIET_MS = 1_000;
const BUDGET_CONFIRMED = 1.02;
/** The profiler's sampling interval, µs: a look at a few fields takes about a millisecond. */
const SAMPLING_US = 50;

const PAGES = ['mutations', 'inputs'];
const CONFIGS = ['none', 'unrelated', 'confirmed'];
const LABEL = { none: 'no extension', unrelated: `extension, ${UNRELATED}`, confirmed: `extension, ${CONFIRMED}` };

// ---------------------------------------------------------------------------------------------
// The pages. Each defines `bench.run()`, which does its workload in separate tasks (a
// MessageChannel, so that no timer clamping stretches it) and resolves with its elapsed time,
// taken at the start of one more task, so that the microtasks of the last one (the
// MutationObservers' callbacks among them) are inside it.

const TASKS_JS = `
/** Runs steps[0], steps[1], … each in a task of its own; resolves with the elapsed ms. */
function inTasks(steps) {
  const channel = new MessageChannel();
  const start = performance.now();
  let next = 0;
  return new Promise((resolve) => {
    channel.port1.onmessage = () => {
      if (next === steps.length) return resolve({ elapsed: performance.now() - start });
      steps[next++]();
      channel.port2.postMessage(0);
    };
    channel.port2.postMessage(0);
  });
}`;

const MUTATIONS = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Feed</title>
<style>article { padding: 4px; border-bottom: 1px solid #ddd } label { display: block }</style>
</head><body><h1>Feed</h1><main id="feed"></main>
<script>
${TASKS_JS}
const INSERTIONS = 5000;
const TASKS = 50;
const INPUT_EVERY = 20;
globalThis.bench = {
  run() {
    const feed = document.getElementById('feed');
    let n = 0;
    const step = () => {
      for (let i = 0; i < INSERTIONS / TASKS; i++, n++) {
        const item = document.createElement('article');
        const text = document.createElement('p');
        text.textContent = 'Post ' + n + ': some words about nothing in particular, with a link.';
        const link = document.createElement('a');
        link.href = '#post-' + n;
        link.textContent = 'more';
        text.append(' ', link);
        item.append(text);
        if (n % INPUT_EVERY === INPUT_EVERY - 1) {
          const label = document.createElement('label');
          label.textContent = 'Reply to post ' + n + ' ';
          const input = document.createElement('input');
          input.name = 'reply-' + n;
          input.placeholder = 'Write a reply';
          label.append(input);
          item.append(label);
        }
        feed.append(item);
      }
    };
    return inTasks(Array.from({ length: TASKS }, () => step));
  },
};
</script></body></html>`;

/** An ordinary form's fields: none of them a one-time code. */
const FIELDS = [
  ['text', 'given-name', 'First name'],
  ['text', 'family-name', 'Last name'],
  ['email', 'email', 'Email'],
  ['tel', 'phone', 'Phone'],
  ['text', 'street', 'Street'],
  ['text', 'city', 'City'],
  ['number', 'quantity', 'Quantity'],
  ['text', 'comment', 'Comment'],
  ['checkbox', 'newsletter', 'Send me the newsletter'],
  ['password', 'password', 'Password'],
];
const form = (f, count) =>
  `<form id="form-${f}" action="#"><fieldset><legend>Order ${f}</legend>` +
  FIELDS.slice(0, count)
    .map(([type, name, label], i) => `<label>${label} <input type="${type}" name="${name}-${f}-${i}"></label>`)
    .join('') +
  `<button>Send</button></fieldset></form>`;

const INPUTS = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Orders</title>
<style>label { display: inline-block; margin: 2px 8px }</style>
</head><body><h1>Orders</h1><div id="forms">${Array.from({ length: 50 }, (_, f) => form(f, 10)).join('\n')}</div>
<template id="later">${form('new', 5)}</template>
<script>
${TASKS_JS}
globalThis.bench = {
  run() {
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const fields = [...document.querySelectorAll('input:not([type=checkbox])')];
    const steps = [];
    // Typing into every field, 45 at a time, as a script that restores a draft does.
    for (let i = 0; i < fields.length; i += 45) {
      steps.push(() => {
        for (const input of fields.slice(i, i + 45)) {
          setValue.call(input, input.type === 'number' ? '3' : 'draft ' + input.name);
          input.dispatchEvent(new Event('input', { bubbles: true }));
        }
      });
    }
    // Then 10 more forms of 5 fields, one per task.
    const later = document.getElementById('later');
    for (let f = 0; f < 10; f++) {
      steps.push(() => {
        const copy = later.content.cloneNode(true);
        copy.querySelector('form').id = 'form-new-' + f;
        document.getElementById('forms').append(copy);
      });
    }
    return inTasks(steps);
  },
};
</script></body></html>`;

const BLANK = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Start</title></head><body></body></html>';
/** The page on which the site is confirmed: it has a code field, as a site's code step does. */
const CODE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Code</title></head><body>
<form><label>Verification code <input id="code" autocomplete="one-time-code" inputmode="numeric"></label><button>Verify</button></form>
</body></html>`;
const ROUTES = { '/blank.html': BLANK, '/code.html': CODE, '/mutations.html': MUTATIONS, '/inputs.html': INPUTS };

const server = createServer((request, response) => {
  const body = ROUTES[new URL(request.url ?? '/', 'http://127.0.0.1').pathname];
  if (!body) return response.writeHead(404).end();
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
const PORT = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
const origin = (host) => `http://${host}:${PORT}`;

// ---------------------------------------------------------------------------------------------
// The two browsers, open side by side for the whole run, with the same switches (the plain one
// as launchWithExtension launches, less the extension).

const HOSTS = `--host-resolver-rules=MAP *.test 127.0.0.1`;
const withExtension = await launchWithExtension({ args: [HOSTS] });
const plainProfile = await mkdtemp(path.join(os.tmpdir(), 'pushotp-bench-'));
const plain = await chromium.launchPersistentContext(plainProfile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-first-run', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', HOSTS],
});

try {
  await confirmSite();
  const { product } = await (await plain.newCDPSession(plain.pages()[0])).send('Browser.getVersion');
  log(`${product}; ${os.cpus()[0]?.model} × ${os.cpus().length}; load average ${os.loadavg()[0].toFixed(2)}`);
  log(`${ROUNDS} rounds; each: both pages, each in the three configurations, a fresh tab and load each time`);

  /** @type {Record<string, Record<string, Awaited<ReturnType<typeof sample>>[]>>} */
  const samples = Object.fromEntries(PAGES.map((p) => [p, Object.fromEntries(CONFIGS.map((c) => [c, []]))]));
  /** @type {Record<string, Awaited<ReturnType<typeof profiled>>[]>} */
  const shares = Object.fromEntries(PAGES.map((p) => [p, []]));
  // One warm-up round first, thrown away: the first loads pay for code caches and processes.
  for (let round = -1; round < ROUNDS; round++) {
    for (const page of PAGES) {
      // The order turns from round to round, so that no configuration always follows another.
      const order = CONFIGS.map((_, i) => CONFIGS[(i + Math.max(round, 0)) % CONFIGS.length]);
      for (const config of order) {
        const s = await sample(page, config);
        if (round >= 0) samples[page][config].push(s);
      }
      const share = await profiled(page);
      if (round >= 0) shares[page].push(share);
    }
    if (round >= 0) log(`round ${round + 1}/${ROUNDS} done (load average ${os.loadavg()[0].toFixed(2)})`);
  }
  if (report(samples, shares)) process.exitCode = 1;
  if (JSON_OUT) console.log(JSON.stringify({ rounds: ROUNDS, samples, shares }, null, 2));
} finally {
  await withExtension.close();
  await plain.close();
  await rm(plainProfile, { recursive: true, force: true });
  server.close();
}

// ---------------------------------------------------------------------------------------------

/**
 * Makes confirmed.test a site the person confirmed for an everyday token, the way the popup
 * does when the person clicks "Fill" and confirms: the browser's grant for the site (a person
 * clicks it in the browser's prompt; here the prompt's test hook, `developerPrivate` on
 * chrome://extensions, grants it ahead and the extension's own `permissions.request` makes it
 * take effect), then a fill with `confirmSite` into a tab of the site.
 */
async function confirmSite() {
  const { context, extensionId } = withExtension;
  const pattern = `http://${CONFIRMED}/*`;
  const extensions = await context.newPage();
  await extensions.goto('chrome://extensions/');
  const granted = await extensions.evaluate(
    ([id, p]) =>
      new Promise((resolve) => {
        // A WebUI-only API, the one behind the extension's site-access settings.
        chrome.developerPrivate.addHostPermission(id, p, () => resolve(chrome.runtime.lastError?.message ?? 'granted'));
      }),
    [extensionId, pattern],
  );
  await extensions.close();
  const helper = await context.newPage();
  await helper.goto(`chrome-extension://${extensionId}/extension/popup.html`);
  // permissions.request needs a user gesture: Playwright's evaluate is one.
  const requested = await helper.evaluate((p) => chrome.permissions.request({ origins: [p] }).catch((err) => err.message), pattern);
  log(`host permission for ${pattern}: test hook ${granted}; permissions.request ${requested}`);

  const ask = (message) => helper.evaluate((m) => chrome.runtime.sendMessage(m), message);
  const added = await ask({ type: 'otp.add', tokens: [{ issuer: 'Bench', account: 'ann', type: 'totp', secret: 'JBSWY3DPEHPK3PXP' }] });
  if (!added.ok) throw new Error(`otp.add: ${JSON.stringify(added)}`);
  const [id] = added.ids;
  const site = await context.newPage();
  await site.goto(`${origin(CONFIRMED)}/code.html`);
  const tabId = await helper.evaluate(async (url) => (await chrome.tabs.query({ url })).at(0)?.id, site.url());
  const filled = await ask({ type: 'otp.fill', id, tabId, origin: origin(CONFIRMED), confirmSite: true });
  if (!filled.ok) throw new Error(`otp.fill: ${JSON.stringify(filled)}`);
  const sites = (await helper.evaluate(() => chrome.storage.local.get('otpTokens'))).otpTokens[id].sites;
  if (!sites.includes(origin(CONFIRMED))) throw new Error(`the site was not confirmed: ${JSON.stringify(sites)}`);
  log(`${origin(CONFIRMED)} confirmed for the token (fill: ${JSON.stringify(filled)})`);
  await site.close();
  // Closed as a person's popup closes: while measuring, only the extension's worker runs.
  await helper.close();
}

/**
 * One fresh load of `page` in `config`: a new tab opens a blank page of the same origin (so that
 * the load below stays in its renderer process and DevTools' counters keep counting), then the
 * page; the counters are read before that load and after the workload and a quiet second.
 */
async function sample(page, config) {
  const context = config === 'none' ? plain : withExtension.context;
  const profile = config === 'none' ? plainProfile : withExtension.profile;
  const base = origin(config === 'confirmed' ? CONFIRMED : UNRELATED);
  const tab = await context.newPage();
  try {
    await tab.goto(`${base}/blank.html`);
    await tab.waitForTimeout(SETTLE_MS);
    const cdp = await context.newCDPSession(tab);
    await cdp.send('Performance.enable');
    const before = await metrics(cdp);
    const threadsBefore = rendererThreads(profile);
    await tab.goto(`${base}/${page}.html`);
    await tab.waitForTimeout(SETTLE_MS);
    const { elapsed } = await tab.evaluate(() => /** @type {any} */ (globalThis).bench.run());
    await tab.waitForTimeout(QUIET_MS);
    const after = await metrics(cdp);
    const threadsAfter = rendererThreads(profile);
    if (after.Timestamp < before.Timestamp || after.TaskDuration < before.TaskDuration) {
      throw new Error(`${page} in ${config}: the counters were reset (the load changed processes)`);
    }
    // The page's renderer is the one whose main thread worked most meanwhile: the others of this
    // browser are idle (a spare renderer, a closing tab's). The extension's process (its worker)
    // is counted apart: it is not the page's.
    let cpu = 0;
    let extension = 0;
    for (const [key, { ns, isExtension }] of threadsAfter) {
      const was = threadsBefore.get(key);
      if (!was) continue;
      const spent = (ns - was.ns) / 1e6;
      if (isExtension) extension += spent;
      else cpu = Math.max(cpu, spent);
    }
    // Whether the content scripts ran in the page: their isolated world is named after the
    // extension. Asked after the counters, so that the asking is not counted.
    const worlds = [];
    cdp.on('Runtime.executionContextCreated', ({ context: c }) => {
      if (c.auxData?.type === 'isolated' && c.name === 'PushOTP') worlds.push(c.id);
    });
    await cdp.send('Runtime.enable');
    await cdp.detach();
    return {
      wall: elapsed,
      cpu,
      busy: (after.TaskDuration - before.TaskDuration) * 1000,
      script: (after.ScriptDuration - before.ScriptDuration) * 1000,
      extension,
      scripts: worlds.length,
    };
  } finally {
    await tab.close();
  }
}

/**
 * One more load of `page` on the confirmed site, under V8's sampling profiler (which slows
 * scripts, so it is not one of the timed loads): of the page's main thread, the time with one
 * of PushOTP's scripts on the stack (`pushotp`), what else ran (`page`: the page's scripts,
 * style, layout, the collector), both ms, and the first as a share of all.
 */
async function profiled(page) {
  const { context, extensionId } = withExtension;
  const tab = await context.newPage();
  try {
    await tab.goto(`${origin(CONFIRMED)}/blank.html`);
    await tab.waitForTimeout(SETTLE_MS);
    const cdp = await context.newCDPSession(tab);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: SAMPLING_US });
    await cdp.send('Profiler.start');
    await tab.goto(`${origin(CONFIRMED)}/${page}.html`);
    await tab.waitForTimeout(SETTLE_MS);
    await tab.evaluate(() => /** @type {any} */ (globalThis).bench.run());
    await tab.waitForTimeout(QUIET_MS);
    const { profile } = await cdp.send('Profiler.stop');
    await cdp.detach();
    const ours = `chrome-extension://${extensionId}/`;
    /** @type {Map<number, any>} */
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    /** @type {Map<number, number>} */
    const parent = new Map();
    for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
    /** @type {Map<number, boolean>} whether a node has one of PushOTP's frames at or above it */
    const inOurs = new Map();
    const isOurs = (id) => {
      if (inOurs.has(id)) return inOurs.get(id);
      const up = parent.get(id);
      const value = nodes.get(id).callFrame.url.startsWith(ours) || (up !== undefined && isOurs(up));
      inOurs.set(id, value);
      return value;
    };
    let pushotp = 0;
    let rest = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i];
      const us = profile.timeDeltas[i + 1] ?? 0; // a sample's time is until the next one
      if (nodes.get(id).callFrame.functionName === '(idle)') continue;
      if (isOurs(id)) pushotp += us;
      else rest += us;
    }
    return { pushotp: pushotp / 1000, page: rest / 1000, share: pushotp / (pushotp + rest) };
  } finally {
    await tab.close();
  }
}

/**
 * The CPU time so far, as the kernel counts it (/proc/PID/task/TID/schedstat, nanoseconds on a
 * CPU), of the renderer processes of the browser whose profile is `profile`: of each page
 * renderer's main thread (keyed by its PID), and of every thread of the extension's process
 * (keyed PID/TID: its service worker runs on a thread of its own). Unlike DevTools'
 * TaskDuration, which is the wall time of a thread's tasks, it does not grow while the thread
 * waits for a core that other processes hold.
 * @returns {Map<string, {ns: number, isExtension: boolean}>}
 */
function rendererThreads(profile) {
  const threads = new Map();
  const ran = (pid, tid) => Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Chromium's child processes rewrite their command line into one string: match words.
      const line = ` ${readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')} `;
      if (!line.includes(' --type=renderer ') || line.includes(' --top-chrome-webui ') || !line.includes(` --user-data-dir=${profile} `)) continue;
      if (!line.includes(' --extension-process ')) {
        threads.set(entry, { ns: ran(entry, entry), isExtension: false });
        continue;
      }
      for (const tid of readdirSync(`/proc/${entry}/task`)) {
        try {
          threads.set(`${entry}/${tid}`, { ns: ran(entry, tid), isExtension: true });
        } catch {
          // ended meanwhile
        }
      }
    } catch {
      // gone meanwhile
    }
  }
  if (threads.size === 0) throw new Error(`no renderer processes found for ${profile}`);
  return threads;
}

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

// ---------------------------------------------------------------------------------------------
// Statistics. Each round measures the three configurations back to back, so the ratio of two
// configurations is taken within a round (paired), which cancels the machine's slower and
// faster minutes; its median is reported with a confidence interval that needs no assumption
// about the noise's shape: the sign test's (the order statistics that bound the median with at
// least 95 % confidence).

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The sign test's confidence interval of the median, at least 95 %. */
function interval(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  // The largest k with P(Binomial(n, 1/2) < k) ≤ 2.5 %: the median lies in [s[k-1], s[n-k]].
  let k = 0;
  let below = 0; // P(B ≤ k - 1)
  let term = 0.5 ** n; // P(B = k)
  while (below + term <= 0.025) {
    below += term;
    term *= (n - k) / (k + 1);
    k++;
  }
  if (k === 0) return [-Infinity, Infinity]; // too few rounds to say anything
  return [s[k - 1], s[n - k]];
}

/** Prints the table and the budgets; returns whether a budget was missed (or cannot be judged). */
function report(samples, shares) {
  let missed = false;
  const ms = (x) => x.toFixed(1);
  const pctOf = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)} %` : '?');
  const pct = (r) => (Number.isFinite(r) ? `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)} %` : `${r > 0 ? '+' : '-'}∞`);
  const rows = [];
  const checks = [];
  for (const page of PAGES) {
    const none = samples[page].none;
    for (const config of CONFIGS) {
      const own = samples[page][config];
      const spread = (values) => `${ms(median(values))} (${ms(Math.min(...values))}–${ms(Math.max(...values))})`;
      const row = {
        page,
        config: LABEL[config],
        wall: spread(own.map((s) => s.wall)),
        cpu: spread(own.map((s) => s.cpu)),
        busy: spread(own.map((s) => s.busy)),
        script: ms(median(own.map((s) => s.script))),
        extension: ms(median(own.map((s) => s.extension))),
        ran: `${own.filter((s) => s.scripts > 0).length}/${own.length}`,
      };
      for (const measure of /** @type {const} */ (['wall', 'cpu', 'busy'])) {
        if (config === 'none') {
          row[`${measure}Ratio`] = '';
          continue;
        }
        const ratios = own.map((s, i) => s[measure] / none[i][measure]);
        const mid = median(ratios);
        const [lo, hi] = interval(ratios);
        row[`${measure}Ratio`] = `${pct(mid)} [${pct(lo)}, ${pct(hi)}]`;
        // The budgets are judged on the page's CPU time: the wall times and DevTools' busy times
        // grow with every other process that holds a core meanwhile, and are shown beside it.
        if (measure !== 'cpu') continue;
        let verdict;
        let budget;
        let measured = `page CPU ${pct(mid)} [${pct(lo)}, ${pct(hi)}]`;
        if (config === 'unrelated') {
          // No measurable difference: the interval of the paired ratio holds 1. Too few rounds
          // for an interval decide nothing.
          verdict = !Number.isFinite(lo) ? 'UNDECIDED (too few rounds)' : lo <= 1 && hi >= 1 ? 'met' : 'MISSED';
          budget = 'no measurable difference (the interval holds +0.0 %)';
        } else {
          // The page CPU of two browsers side by side varies by more than 2 % from load to
          // load; the profiler's share is the precise figure, and the page CPU must not
          // contradict it (its interval must reach under the budget).
          const share = median(shares[page].map((x) => x.share));
          const [shareLo, shareHi] = interval(shares[page].map((x) => x.share));
          measured = `PushOTP's share ${pctOf(share)} [${pctOf(shareLo)}, ${pctOf(shareHi)}], ${measured}`;
          verdict = !Number.isFinite(lo) ? 'UNDECIDED (too few rounds)' : share < BUDGET_CONFIRMED - 1 && lo < BUDGET_CONFIRMED ? 'met' : 'MISSED';
          budget = `a share under ${pctOf(BUDGET_CONFIRMED - 1)}, and page CPU whose interval reaches under ${pct(BUDGET_CONFIRMED)}`;
        }
        checks.push(`${verdict}: ${page}, ${LABEL[config]}: ${measured}; budget ${budget}`);
        if (verdict !== 'met') missed = true;
      }
      // A configuration whose scripts did not run (or ran where they must not) measured
      // something else than it says.
      const ran = own.filter((s) => s.scripts > 0).length;
      if ((config === 'confirmed' && ran < own.length) || (config === 'none' && ran > 0)) {
        checks.push(`MISSED: ${page}, ${LABEL[config]}: PushOTP's content scripts ran in ${ran} of ${own.length} loads`);
        missed = true;
      }
      if (config !== 'none') row.added = ms(median(own.map((s, i) => s.cpu - none[i].cpu)));
      rows.push(row);
    }
  }
  const columns = [
    ['page', 'page'],
    ['config', 'configuration'],
    ['wall', 'wall ms'],
    ['wallRatio', 'wall vs none'],
    ['cpu', 'page CPU ms'],
    ['cpuRatio', 'CPU vs none'],
    ['added', 'CPU added ms'],
    ['busy', 'busy ms'],
    ['busyRatio', 'busy vs none'],
    ['script', 'of it script ms'],
    ['extension', 'extension ms'],
    ['ran', 'scripts ran'],
  ];
  log('');
  log('ms: median (min–max) over the rounds. "vs none": the median of the rounds\' ratios to "no extension" [95 % interval].');
  log('wall: the page\'s workload as the page times it. From the start of the page\'s load to a second after its workload:');
  log('page CPU, its renderer\'s main thread on a core (the kernel\'s count); CPU added, the median of the rounds\' differences');
  log('to "no extension"; busy, the time of that thread\'s tasks (DevTools TaskDuration, which counts waits for a core too);');
  log('of it script, DevTools ScriptDuration; extension, every thread of the extension\'s process (its worker) meanwhile.');
  log('scripts ran: loads in which PushOTP\'s content scripts ran.');
  const width = columns.map(([key, title]) => Math.max(title.length, ...rows.map((r) => String(r[key] ?? '').length)));
  log(columns.map(([, title], i) => title.padEnd(width[i])).join('  '));
  for (const r of rows) log(columns.map(([key], i) => String(r[key] ?? '').padEnd(width[i])).join('  ').trimEnd());
  log('');
  log('');
  log(`Profiled loads on ${CONFIRMED} (V8's sampler every ${SAMPLING_US} µs): the page's main thread, median (min–max) ms; PushOTP's share:`);
  log('the time with one of its scripts on the stack, of all the thread did, median [95 % interval].');
  for (const page of PAGES) {
    const list = shares[page];
    const spread = (values) => `${ms(median(values))} (${ms(Math.min(...values))}–${ms(Math.max(...values))})`;
    const [lo, hi] = interval(list.map((x) => x.share));
    log(
      `${page.padEnd(9)}  PushOTP ${spread(list.map((x) => x.pushotp))}  other ${spread(list.map((x) => x.page))}  share ${pctOf(median(list.map((x) => x.share)))} [${pctOf(lo)}, ${pctOf(hi)}]`,
    );
  }
  log('');
  for (const line of checks) log(line);
  return missed;
}
