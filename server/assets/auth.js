// The organization login page: starts a push login, shows the number to match, and follows the
// login's event stream until it is approved (then signs in) or refused.
const $ = (id) => document.getElementById(id);

function say(text, kind = '') {
  $('status').textContent = text;
  $('status').className = `status ${kind}`;
}

const OUTCOMES = {
  denied: 'The request was denied on your authenticator.',
  expired: 'The request expired. Try again.',
  locked: 'Your authenticator is locked after too many failed attempts. Contact your administrator.',
  rejected: 'The answer was refused',
};

function follow() {
  const events = new EventSource('/auth/events');
  events.addEventListener('login', async (e) => {
    const event = JSON.parse(e.data);
    if (event.state === 'approved') {
      events.close();
      say('Approved. Signing you in…', 'ok');
      const reply = await fetch('/auth/complete', { method: 'POST' });
      if (reply.ok) location.assign((await reply.json()).redirect);
      else say('Could not complete the sign-in. Try again.', 'error');
    } else if (event.state in OUTCOMES) {
      events.close();
      $('waiting').hidden = true;
      $('choose').hidden = false;
      const reason = event.reason ? ` (${event.reason.replaceAll('_', ' ')})` : '';
      say(`${OUTCOMES[event.state]}${event.state === 'rejected' ? reason + '.' : ''}`, 'error');
    }
  });
}

$('push').addEventListener('click', async () => {
  say('Sending a request to your authenticator…');
  $('push').disabled = true;
  try {
    const reply = await fetch('/auth/push', { method: 'POST' });
    const body = await reply.json();
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
