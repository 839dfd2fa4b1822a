// The "Add an authenticator" page: waits until a device redeems the link it shows, then shows
// the comparison code (docs/protocol.md §3) and sends the person's "Confirm" or "It does not
// match". Only the session that made the link can do either.
const $ = (id) => document.getElementById(id);
const token = $('enroll').dataset.token;

/** How often the page asks whether the link was used. */
const POLL_MS = 1_000;
/** How long the page waits before asking again when the server could not be reached. */
const RETRY_MS = 3_000;

function say(text, kind = '') {
  $('status').textContent = text;
  $('status').className = `status ${kind}`;
}

/** Six digits as two groups of three, as the extension shows them. */
const grouped = (code) => `${code.slice(0, 3)} ${code.slice(3)}`;

const ENDINGS = {
  active: ['Confirmed. Your authenticator can now approve your sign-ins.', 'ok'],
  removed: ['That authenticator was removed. To add yours, make a new link from the app page.', 'error'],
  expired: ['The link expired before it was used. Make a new one from the app page.', 'error'],
  not_confirmed: ['Nobody confirmed the code in time, so that authenticator was removed. Make a new link from the app page.', 'error'],
};

/** Whether the page showed a final state: it then stops following the link. */
let done = false;
/** Whether the status line says that the page is trying again. */
let retrying = false;

/** Shows a final state; returns whether the page is done. */
function end(state) {
  const ending = ENDINGS[state];
  if (!ending) return false;
  done = true;
  $('scan').hidden = true;
  $('compare').hidden = true;
  say(...ending);
  return true;
}

/** Says why the page asks again later, and does. */
function retry(text) {
  retrying = true;
  say(text, 'error');
  setTimeout(check, RETRY_MS);
}

/**
 * Follows the link until it ends: waiting, then the comparison, then the person's decision,
 * a removal or the end of the time to confirm. A server error or an unreachable server only
 * delays it; a refusal (signed out) ends it.
 */
async function check() {
  if (done) return;
  let reply;
  try {
    reply = await fetch(`/app/enroll/status?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
  } catch {
    retry('The server could not be reached. Trying again…');
    return;
  }
  if (reply.status >= 500) {
    retry('The server had a problem. Trying again…');
    return;
  }
  if (!reply.ok) {
    done = true;
    say('This page can no longer follow the link: sign in again and make a new one.', 'error');
    return;
  }
  const status = await reply.json();
  if (done || end(status.state)) return;
  if (retrying) {
    retrying = false;
    say('');
  }
  if (status.state === 'unconfirmed' && $('compare').hidden) {
    $('scan').hidden = true;
    $('device').textContent = status.device;
    $('code').textContent = grouped(status.code);
    $('compare').hidden = false;
    $('compare-title').focus();
  }
  setTimeout(check, POLL_MS);
}

/** Sends "Confirm" (`confirm`) or "It does not match" (`reject`). */
async function decide(what) {
  for (const button of [$('confirm'), $('reject')]) button.disabled = true;
  try {
    const reply = await fetch(`/app/enroll/${what}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    const body = await reply.json().catch(() => ({}));
    if (reply.ok && end(body.state)) return;
    // Too late (the link expired) or already decided: the server's word is the state now.
    const status = await fetch(`/app/enroll/status?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
    if (status.ok && end((await status.json()).state)) return;
    say(body.message ?? 'That did not work. Try again.', 'error');
  } catch {
    say('The server could not be reached. Try again.', 'error');
  }
  for (const button of [$('confirm'), $('reject')]) button.disabled = false;
}

$('confirm').addEventListener('click', () => decide('confirm'));
$('reject').addEventListener('click', () => decide('reject'));
check();
