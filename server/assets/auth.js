// The organization login page: starts a push login, shows the number to match, and follows the
// login's event stream until it is approved (then signs in) or refused, saying so when the
// server goes away and picking up where it was when it is back.
const $ = (id) => document.getElementById(id);

function say(text, kind = '') {
  $('status').textContent = text;
  $('status').className = `status ${kind}`;
}

/** Outcomes after which the person may push again or type a passcode. */
const OUTCOMES = {
  expired: 'The request expired. Try again.',
  rejected: 'The answer was refused',
};

/** Refusals the person can act on, said in full. */
const REASONS = {
  // The server takes only approvals made in the browser that shows this page (docs/protocol.md
  // §5, "Same-browser approvals"): one from another device, or through a copy of this page on
  // another site, is refused.
  unbound:
    'The approval came from another browser or device. Approve from the browser you are signing in with: send a new request and approve it in this browser.',
};

/** Outcomes that end the sign-in for good: the person starts again with the password. */
const ENDINGS = {
  denied: 'The request was denied on your authenticator.',
  reported: 'The request was reported on your authenticator.',
  locked: 'Your authenticator is locked after too many failed attempts. Contact your administrator.',
};

/** How long the page waits before asking again when the server answered with an error. */
const RETRY_MS = 3_000;
const AWAY = 'The server went away. Reconnecting…';

// While the server is away (restarting, or the network gone) the page says so and keeps
// trying: the browser reconnects the event stream by itself, and where it gives up (the server,
// or a proxy in front of it, answered with an error) the page asks again after a pause. The
// first event of each stream is the login's state, so the page picks up where it was.
function follow() {
  const events = new EventSource('/auth/events');
  let away = false;
  events.addEventListener('login', async (e) => {
    const event = JSON.parse(e.data);
    if (away && event.state === 'waiting') say('Waiting for your approval…');
    away = false;
    if (event.state === 'approved') {
      events.close();
      say('Approved. Signing you in…', 'ok');
      const reply = await fetch('/auth/complete', { method: 'POST' });
      if (reply.ok) location.assign((await reply.json()).redirect);
      else say('Could not complete the sign-in. Try again.', 'error');
    } else if (event.state in ENDINGS) {
      events.close();
      ended(ENDINGS[event.reason === 'reported' ? 'reported' : event.state]);
    } else if (event.state in OUTCOMES) {
      events.close();
      $('waiting').hidden = true;
      $('choose').hidden = false;
      if (event.reason in REASONS) {
        say(REASONS[event.reason], 'error');
      } else {
        const reason = event.reason ? ` (${event.reason.replaceAll('_', ' ')})` : '';
        say(`${OUTCOMES[event.state]}${event.state === 'rejected' ? reason + '.' : ''}`, 'error');
      }
    }
  });
  events.addEventListener('error', () => {
    away = true;
    say(AWAY, 'error');
    if (events.readyState === EventSource.CLOSED) setTimeout(resume, RETRY_MS);
  });
}

/** After the server answered the stream with an error: follows again once it serves it. */
async function resume() {
  const asked = new AbortController();
  let reply;
  try {
    reply = await fetch('/auth/events', { signal: asked.signal });
  } catch {
    setTimeout(resume, RETRY_MS);
    return;
  }
  // Only the status is wanted: the stream itself is opened again by `follow`.
  asked.abort();
  if (reply.ok) {
    follow();
  } else if (reply.status === 401) {
    // The sign-in itself is gone (it expired meanwhile): a new one must start.
    ended();
  } else {
    setTimeout(resume, RETRY_MS);
  }
}

/**
 * The sign-in is over (denied, reported, locked or gone): no more pushes or passcodes on it;
 * the page says why, if it knows, and offers to start again with the password.
 */
function ended(why = '') {
  $('choose').hidden = true;
  $('waiting').hidden = true;
  $('type-passcode').hidden = true;
  say(`${why ? `${why} ` : ''}This sign-in has ended. `, 'error');
  const again = document.createElement('a');
  again.href = '/app/login';
  again.textContent = 'Sign in again';
  $('status').append(again, '.');
}

$('push').addEventListener('click', async () => {
  say('Sending a request to your authenticator…');
  $('push').disabled = true;
  try {
    const reply = await fetch('/auth/push', { method: 'POST' });
    const body = await reply.json();
    if (body.error === 'sign_in_over') {
      ended();
      return;
    }
    if (!reply.ok) {
      say(body.message, 'error');
      return;
    }
    $('choose').hidden = true;
    $('waiting').hidden = false;
    $('number').textContent = body.number ?? '';
    $('match-hint').hidden = body.number == null;
    say('Waiting for your approval…');
    follow();
  } catch {
    say('The server cannot be reached. Try again.', 'error');
  } finally {
    $('push').disabled = false;
  }
});
