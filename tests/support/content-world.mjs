// The isolated world the extension's content scripts run in, inside one page or frame, reached
// through the Chrome DevTools Protocol: what a compromised renderer could do with the content
// scripts' powers (their `chrome.*` APIs), and where a test watches what they are sent.

/**
 * Evaluates `source` (an expression; a promise is awaited) in the content scripts' world of
 * `target`: a Playwright page (its top frame) or a frame in another process (a cross-site
 * frame). Waits until the content scripts have run there, which is the sign that they did.
 * @param {{context: import('playwright-core').BrowserContext}} browser
 * @param {import('playwright-core').Page|import('playwright-core').Frame} target
 * @returns {Promise<{evaluate: (source: string) => Promise<any>, detach: () => Promise<void>}>}
 */
export async function contentWorld(browser, target) {
  const cdp = await browser.context.newCDPSession(target);
  /** @type {{id: number, name: string, auxData: {frameId: string}}[]} */
  const contexts = [];
  cdp.on('Runtime.executionContextCreated', ({ context }) => contexts.push(context));
  cdp.on('Runtime.executionContextDestroyed', ({ executionContextId }) => {
    const at = contexts.findIndex((c) => c.id === executionContextId);
    if (at >= 0) contexts.splice(at, 1);
  });
  await cdp.send('Runtime.enable');
  const { frameTree } = await cdp.send('Page.getFrameTree');
  const frameId = frameTree.frame.id;
  const ours = () => contexts.findLast((c) => c.name === 'PushOTP' && c.auxData?.frameId === frameId);
  for (let i = 0; i < 100 && !ours(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!ours()) throw new Error('the content scripts did not run in this frame');
  return {
    async evaluate(source) {
      const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', {
        contextId: ours().id,
        expression: source,
        awaitPromise: true,
        returnByValue: true,
      });
      if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
      return result.value;
    },
    detach: () => cdp.detach(),
  };
}
