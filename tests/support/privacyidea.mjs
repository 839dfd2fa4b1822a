// A real privacyIDEA 3.14 (PyPI, SQLite) on 127.0.0.1 for the end-to-end tests, started by
// scripts/privacyidea.sh, and the admin and login-page calls the tests make against it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './root.mjs';

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, 'scripts', 'privacyidea.sh');

/**
 * Set to `1` by scripts/test.sh (and so in CI): there the privacyIDEA tests must run, so a
 * missing prerequisite fails them instead of skipping them.
 */
export const REQUIRE_PRIVACYIDEA = 'PUSHOTP_REQUIRE_PRIVACYIDEA';

/**
 * Starts a fresh privacyIDEA. Resolves to `{ skipped }` with the reason when python3 is
 * missing, so that a plain local run can skip the tests; throws instead when
 * `PUSHOTP_REQUIRE_PRIVACYIDEA=1`.
 */
export async function startPrivacyIdea() {
  const data = await mkdtemp(path.join(tmpdir(), 'pushotp-privacyidea-'));
  let stdout;
  try {
    ({ stdout } = await run(SCRIPT, ['start', data], { timeout: 900_000 }));
  } catch (err) {
    await rm(data, { recursive: true, force: true });
    if (err.code === 3) {
      if (process.env[REQUIRE_PRIVACYIDEA] === '1') {
        throw new Error(`privacyIDEA cannot start: python3 is missing, and ${REQUIRE_PRIVACYIDEA}=1 (scripts/test.sh) requires its tests to run`);
      }
      return { skipped: `python3 is missing (${REQUIRE_PRIVACYIDEA}=1 makes this a failure, as scripts/test.sh does)` };
    }
    throw new Error(`privacyIDEA did not start: ${err.stderr || err.message}`);
  }
  const [url] = stdout.trim().split('\n').at(-1).split(' ');
  const pi = new PrivacyIdea(url, data);
  await pi.login();
  return pi;
}

class PrivacyIdea {
  constructor(url, data) {
    this.url = url;
    this.data = data;
    this.jwt = null;
  }

  async request(method, route, body, { admin = false } = {}) {
    const headers = {};
    let payload;
    if (body) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(body);
    }
    if (admin) headers.authorization = this.jwt;
    const reply = await fetch(`${this.url}${route}`, { method, headers, body: payload });
    return { status: reply.status, json: await reply.json() };
  }

  async admin(method, route, body) {
    const { status, json } = await this.request(method, route, body, { admin: true });
    if (status !== 200 || !json.result.status) throw new Error(`${route}: ${status} ${JSON.stringify(json.result)}`);
    return json;
  }

  async adminJson(method, route, body) {
    const reply = await fetch(`${this.url}${route}`, {
      method,
      headers: { authorization: this.jwt, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await reply.json();
    if (reply.status !== 200 || !json.result.status) throw new Error(`${route}: ${reply.status} ${JSON.stringify(json.result)}`);
    return json;
  }

  async login() {
    const { json } = await this.request('POST', '/auth', { username: 'admin', password: 'admin-pass' });
    this.jwt = json.result.value.token;
  }

  /**
   * Enrollment step 1 for `user`: `{ serial, link, qr }`, the `otpauth://pipush/` URI and the
   * QR code privacyIDEA draws of it (a `data:image/png` URL, as its web UI shows it).
   */
  async initPushToken(user = 'alice', pin = '1234') {
    const json = await this.admin('POST', '/token/init', { type: 'push', genkey: '1', user, realm: 'realm1', pin });
    return { serial: json.detail.serial, link: json.detail.pushurl.value, qr: json.detail.pushurl.img };
  }

  /** Sets the authentication policy's extra actions (e.g. `push_require_presence`). */
  async authPolicy(actions = {}) {
    await this.adminJson('POST', '/policy/push_auth', {
      scope: 'authentication',
      action: {
        push_text_on_mobile: 'Sign in as {username}@{userrealm} from {client_ip}?',
        push_title_on_mobile: 'privacyIDEA test',
        push_ssl_verify: '0',
        push_allow_polling: 'allow',
        ...actions,
      },
    });
  }

  /** Sets the enrollment policy's extra actions (e.g. `push_force_app_pin`). */
  async enrollPolicy(actions = {}) {
    await this.adminJson('POST', '/policy/push_enroll', {
      scope: 'enrollment',
      action: {
        push_firebase_configuration: 'poll only',
        push_registration_url: `${this.url}/ttype/push`,
        push_ttl: '10',
        push_ssl_verify: '0',
        ...actions,
      },
    });
  }

  /**
   * Has privacyIDEA check the web UI login of realm1's users (`login_mode=privacyIDEA`), so that
   * their token PIN starts a challenge there; without it the web UI asks the user store.
   */
  async webuiPolicy() {
    await this.adminJson('POST', '/policy/webui_login', {
      scope: 'webui',
      realm: 'realm1',
      action: { login_mode: 'privacyIDEA' },
    });
  }

  /** How many times `serial` polled for challenges (`GET /ttype/push`), from privacyIDEA's audit log. */
  async polls(serial) {
    const rows = await this.audit({ serial, page_size: '1000' });
    return rows.filter((row) => row.action === 'GET /ttype/<ttype>').length;
  }

  /** The login page's first step: user and PIN. Returns `detail` and `result`. */
  async check(user, pass, transactionId) {
    const body = { user, pass, realm: 'realm1' };
    if (transactionId) body.transaction_id = transactionId;
    const { json } = await this.request('POST', '/validate/check', body);
    return json;
  }

  /** `GET /validate/polltransaction`: `{ status: challenge_status, value }`. */
  async pollTransaction(transactionId) {
    const { json } = await this.request('GET', `/validate/polltransaction?transaction_id=${transactionId}`);
    return { status: json.detail?.challenge_status, value: json.result.value };
  }

  /** Audit entries (newest first) matching `query`, e.g. `{ action: 'POST /ttype/push' }`. */
  async audit(query = {}) {
    const json = await this.admin('GET', `/audit/?${new URLSearchParams({ page_size: '50', ...query })}`);
    return json.result.value.auditdata;
  }

  /**
   * Every row of privacyIDEA's authentication log (the conditional-access events, such as
   * CHALLENGE_DECLINED_UNKNOWN_TRIGGER), read from its SQLite database.
   */
  async authenticationLog() {
    const script =
      'import json, sqlite3, sys\n' +
      'c = sqlite3.connect(sys.argv[1]); c.row_factory = sqlite3.Row\n' +
      'print(json.dumps([dict(r) for r in c.execute("select * from authentication_log order by id")], default=str))';
    const { stdout } = await run('python3', ['-c', script, path.join(this.data, 'privacyidea.sqlite')]);
    return JSON.parse(stdout);
  }

  /**
   * Ends every open challenge as its validity running out would: its expiry set to its start in
   * privacyIDEA's SQLite database, so that polls no longer list it.
   */
  async expireChallenges() {
    const script = 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute("update challenge set expiration = timestamp")\nc.commit()';
    await run('python3', ['-c', script, path.join(this.data, 'privacyidea.sqlite')]);
  }

  async stop() {
    await run(SCRIPT, ['stop', this.data]).catch(() => {});
    await rm(this.data, { recursive: true, force: true });
  }
}
