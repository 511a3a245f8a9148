/**
 * Authentication and authorisation of every route:
 *
 * - the role × route matrix over every registered route (a route missing from the matrix
 *   fails the test), for anonymous callers, forged and tampered bearer tokens, ended, expired and
 *   tampered sessions, and each role;
 * - staff sign-in: session cookies (HttpOnly, SameSite=Strict), passwords stored scrypt-hashed,
 *   the same refusal for unknown names and wrong passwords, disabled accounts, logout;
 * - CSRF: session requests that change state need the session's token; bearer requests do not;
 * - login rate limiting per name and address;
 * - the admin accounts API, and sessions ended by a password change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountStore } from '../../src/auth/accounts.js';
import { hashToken } from '../../src/server/auth.js';
import { SessionStore } from '../../src/auth/sessions.js';
import { SecurityLog } from '../../src/audit/security-log.js';
import { deletePrefix, testConfig, TEST_TOKEN, uniquePrefix, waitUntil } from '../helpers/env.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';
import { startApi, type ApiStack } from '../helpers/stack.js';

const TOKENS = {
  service: TEST_TOKEN,
  reviewer: 'matrix-reviewer-token-0123456789abc',
  kb_editor: 'matrix-kb-editor-token-0123456789ab',
  ops: 'matrix-ops-token-0123456789abcdefgh',
  admin: 'matrix-admin-token-0123456789abcdefg',
};
const prefix = uniquePrefix();
const config = testConfig(prefix, {
  STAFF_TOKENS: [
    `t-reviewer:${hashToken(TOKENS.reviewer)}:reviewer`,
    `t-editor:${hashToken(TOKENS.kb_editor)}:kb_editor`,
    `t-ops:${hashToken(TOKENS.ops)}:ops`,
    `t-admin:${hashToken(TOKENS.admin)}:admin`,
  ].join(','),
  LOGIN_RATE_MAX: '4',
  LOGIN_RATE_WINDOW_MS: '60000',
});
const PASSWORD = 'correct horse battery staple';
let api: ApiStack;
let kb: TestKb;
let accounts: AccountStore;

beforeAll(async () => {
  kb = await openTestKb('sqlite');
  api = await startApi(config, undefined, { review: true, knowledgeBase: kb.store });
  accounts = api.review!.accounts;
  await accounts.create('dr-session', PASSWORD, ['reviewer'], 'test-setup');
  await accounts.create('ops-session', PASSWORD, ['ops'], 'test-setup');
  await accounts.create('gone', PASSWORD, ['reviewer'], 'test-setup');
  await accounts.setDisabled('gone', true);
});
afterAll(async () => {
  await api?.close();
  await kb?.drop();
  await deletePrefix(prefix);
});

const cookieOf = (setCookie: string | string[] | undefined) =>
  /co_session=([^;]+)/.exec([setCookie ?? []].flat().join(';'))?.[1];

async function signIn(name: string, password = PASSWORD) {
  const res = await api.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { name, password } });
  return {
    res,
    cookie: cookieOf(res.headers['set-cookie']),
    csrf: res.statusCode === 200 ? res.json<{ csrfToken: string }>().csrfToken : '',
  };
}

type Principal =
  | 'anonymous'
  | 'forged'
  | 'tampered_token'
  | 'ended_session'
  | 'expired_session'
  | 'tampered_session'
  | keyof typeof TOKENS;
const PRINCIPALS: Principal[] = [
  'anonymous',
  'forged',
  'tampered_token',
  'ended_session',
  'expired_session',
  'tampered_session',
  'service',
  'reviewer',
  'kb_editor',
  'ops',
  'admin',
];
/** A valid credential with one character changed. */
const tamper = (s: string) => `${s.slice(0, -1)}${s.endsWith('a') ? 'b' : 'a'}`;
const STAFF_ALL: Principal[] = ['reviewer', 'kb_editor', 'ops', 'admin'];
const REVIEW: Principal[] = ['reviewer', 'admin'];
const OPS: Principal[] = ['ops', 'admin'];
const KB_READ: Principal[] = ['service', 'reviewer', 'kb_editor', 'ops', 'admin'];
const KB_PROPOSE: Principal[] = ['reviewer', 'kb_editor', 'admin'];
type Rule = Principal[] | 'public';

/** Every route, by `METHOD /pattern`. A new route without an entry here fails the test. */
const MATRIX: Record<string, Rule> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /openapi.json': 'public',
  'POST /v1/cases': ['service'],
  'GET /v1/cases/:id': ['service'],
  'GET /v1/cases/:id/audit': ['service', 'reviewer', 'ops', 'admin'],
  'GET /v1/kb/version': KB_READ,
  'GET /v1/kb/entities': KB_READ,
  'GET /v1/kb/entities/:id': KB_READ,
  'GET /v1/kb/facts/:id': KB_READ,
  'GET /v1/kb/facts/:id/history': KB_READ,
  'POST /v1/kb/normalise': KB_READ,
  'POST /v1/kb/checks': KB_READ,
  'GET /v1/kb/edits': KB_PROPOSE,
  'POST /v1/kb/edits': KB_PROPOSE,
  'GET /v1/kb/edits/:id': KB_PROPOSE,
  'POST /v1/kb/edits/:id/apply': ['kb_editor', 'admin'],
  'POST /v1/kb/edits/:id/reject': ['kb_editor', 'admin'],
  'POST /v1/literature/search': ['reviewer', 'kb_editor', 'admin'],
  'POST /v1/auth/login': 'public',
  'POST /v1/auth/logout': STAFF_ALL,
  'GET /v1/auth/session': STAFF_ALL,
  'GET /v1/admin/accounts': ['admin'],
  'POST /v1/admin/accounts': ['admin'],
  'PATCH /v1/admin/accounts/:name': ['admin'],
  'GET /v1/reviews': REVIEW,
  'POST /v1/reviews/claim': REVIEW,
  'GET /v1/reviews/:caseId': REVIEW,
  'GET /v1/reviews/:caseId/revisions/:revision': REVIEW,
  'POST /v1/reviews/:caseId/revisions/:revision/claim': REVIEW,
  'POST /v1/reviews/:caseId/revisions/:revision/lease': REVIEW,
  'POST /v1/reviews/:caseId/revisions/:revision/release': REVIEW,
  'POST /v1/reviews/:caseId/revisions/:revision/decision': REVIEW,
  'GET /v1/ops/security-events': OPS,
  'GET /v1/ops/dead-letters': OPS,
  'POST /v1/ops/dead-letters/:caseId/revisions/:revision/retry': OPS,
  'GET /metrics': OPS,
  'GET /review/login': 'public',
  'POST /review/login': 'public',
  'GET /review/static/review.js': 'public',
  'GET /review/static/review.css': 'public',
  'POST /review/logout': REVIEW,
  'GET /review': REVIEW,
  'POST /review/claim-next': REVIEW,
  'GET /review/cases/:caseId/:revision': REVIEW,
  'POST /review/cases/:caseId/:revision/claim': REVIEW,
  'POST /review/cases/:caseId/:revision/release': REVIEW,
  'POST /review/cases/:caseId/:revision/decision': REVIEW,
};
/** Routes a plugin registers under a prefix: Swagger UI (public) and Bull Board (ops). */
const PREFIX_RULES: Array<[string, Rule]> = [
  ['/docs', 'public'],
  ['/ops/queues', OPS],
];

const concrete = (url: string) =>
  url
    .replace(':caseId', 'matrix-case')
    .replace(':revision', '1')
    .replace(':id', 'matrix-case')
    .replace(':name', 'nobody')
    .replace(':queueName', 'dead-letter')
    .replace(':jobId', 'no-such-job')
    .replace(':schedulerId', 'none')
    .replace(':queueStatus', 'failed')
    .replace('*', 'missing.css');

let endedSession = '';
let expiredSession = '';
let liveSession = '';

function headersFor(who: Principal): Record<string, string> {
  switch (who) {
    case 'anonymous':
      return {};
    case 'forged':
      return { authorization: 'Bearer forged-token-0123456789abcdefghijkl' };
    case 'tampered_token':
      return { authorization: `Bearer ${tamper(TOKENS.admin)}` };
    case 'ended_session':
      return { cookie: `co_session=${endedSession}` };
    case 'expired_session':
      return { cookie: `co_session=${expiredSession}` };
    case 'tampered_session':
      return { cookie: `co_session=${tamper(liveSession)}` };
    default:
      return { authorization: `Bearer ${TOKENS[who]}` };
  }
}

/** Was the request refused by authentication or authorisation (as opposed to anything the route itself answered)? */
function refused(res: { statusCode: number; headers: Record<string, unknown>; body: string }): boolean {
  if (res.statusCode === 303) return String(res.headers.location).startsWith('/review/login?next=');
  if (res.statusCode !== 401 && res.statusCode !== 403) return false;
  try {
    return ['UNAUTHENTICATED', 'SESSION_EXPIRED', 'FORBIDDEN', 'CSRF_INVALID'].includes(
      (JSON.parse(res.body) as { code?: string }).code ?? '',
    );
  } catch {
    return false;
  }
}

describe('authorisation matrix', () => {
  it('covers every registered route', () => {
    const routes = [...new Set(api.app.registeredRoutes.map((r) => `${r.method} ${r.url}`))];
    const missing = routes.filter((r) => !(r in MATRIX) && !PREFIX_RULES.some(([p]) => r.split(' ')[1]!.startsWith(p)));
    expect(missing, 'routes without an entry in the authorisation matrix').toEqual([]);
    const stale = Object.keys(MATRIX).filter((k) => !routes.includes(k));
    expect(stale, 'matrix entries for routes that no longer exist').toEqual([]);
  });

  it('every route × every principal: anonymous, forged and tampered tokens, ended, expired and tampered sessions, service, reviewer, kb_editor, ops, admin', async () => {
    const s = await signIn('dr-session');
    await api.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { cookie: `co_session=${s.cookie!}`, 'x-csrf-token': s.csrf },
    });
    endedSession = s.cookie!;
    // An ops session that lapsed: created with a one-second lifetime, then waited out (Redis expires it).
    expiredSession = (
      await new SessionStore(api.redis, prefix, { ttlSeconds: 1, idleSeconds: 1 }).create('ops-session')
    ).token;
    liveSession = (await signIn('dr-session')).cookie!;
    // Both worked a moment ago, so refusing them below is the expiry and the tampering at work.
    for (const c of [expiredSession, liveSession])
      expect(
        (await api.app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: `co_session=${c}` } }))
          .statusCode,
      ).toBe(200);
    // Wait for the lapse itself (the store no longer returns the session), not for a fixed time.
    const sessions = new SessionStore(api.redis, prefix, { ttlSeconds: 1, idleSeconds: 1 });
    await waitUntil(
      async () => (await sessions.get(expiredSession)) === null,
      5_000,
      'the one-second session to lapse',
    );
    const routes = [...new Set(api.app.registeredRoutes.map((r) => `${r.method} ${r.url}`))];
    const failures: string[] = [];
    for (const route of routes) {
      const [method, url] = route.split(' ') as [string, string];
      const rule = MATRIX[route] ?? PREFIX_RULES.find(([p]) => url.startsWith(p))![1];
      for (const who of PRINCIPALS) {
        const res = await api.app.inject({
          method: method as 'GET',
          url: concrete(url),
          headers: { ...headersFor(who), ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
          payload: method === 'GET' ? undefined : '{}',
        });
        const allowed = rule === 'public' || rule.includes(who);
        if (refused(res) === allowed) failures.push(`${route} as ${who}: ${res.statusCode} ${res.body.slice(0, 80)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('sessions, CSRF and sign-in', () => {
  it('signs in with a password: an HttpOnly, SameSite=Strict cookie and a CSRF token; passwords are stored hashed', async () => {
    const { res, cookie, csrf } = await signIn('dr-session');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ account: 'dr-session', roles: ['reviewer'] });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    // A session cookie: the browser drops it when it closes; the server ends it sooner.
    expect(setCookie).not.toMatch(/Max-Age|Expires/i);
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf).toMatch(/^[0-9a-f]{64}$/);
    const session = await api.app.inject({
      method: 'GET',
      url: '/v1/auth/session',
      headers: { cookie: `co_session=${cookie!}` },
    });
    expect(session.json()).toMatchObject({ account: 'dr-session', csrfToken: csrf, idleSeconds: 900 });
    const { idleExpiresAt, expiresAt } = session.json<{ idleExpiresAt: string; expiresAt: string }>();
    expect(Date.parse(idleExpiresAt) - Date.now()).toBeGreaterThan(890_000);
    expect(Date.parse(idleExpiresAt) - Date.now()).toBeLessThanOrEqual(900_000);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.parse(idleExpiresAt));
    // Redis holds the session under the token's hash, never the token.
    const keys = await api.redis.keys(`${prefix}:session:*`);
    expect(keys.some((k) => k.endsWith(hashToken(cookie!)))).toBe(true);
    expect(keys.some((k) => k.includes(cookie!))).toBe(false);
  });

  it('refuses wrong passwords, unknown names and disabled accounts alike', async () => {
    for (const [name, password] of [
      ['dr-session', 'wrong password here'],
      ['no-such-account', PASSWORD],
      ['gone', PASSWORD],
    ] as const) {
      const { res } = await signIn(name, password);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({
        code: 'LOGIN_FAILED',
        detail: 'wrong account name or password, or the account is disabled',
      });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('needs the CSRF token for state changes on a session, and not for bearer tokens', async () => {
    const { cookie, csrf } = await signIn('dr-session');
    const session = { cookie: `co_session=${cookie!}` };
    const none = await api.app.inject({ method: 'POST', url: '/v1/reviews/claim', headers: session });
    expect([none.statusCode, none.json<{ code: string }>().code]).toEqual([403, 'CSRF_INVALID']);
    const wrong = await api.app.inject({
      method: 'POST',
      url: '/v1/reviews/claim',
      headers: { ...session, 'x-csrf-token': 'f'.repeat(64) },
    });
    expect(wrong.statusCode).toBe(403);
    const other = await signIn('dr-session');
    expect(
      (
        await api.app.inject({
          method: 'POST',
          url: '/v1/reviews/claim',
          headers: { ...session, 'x-csrf-token': other.csrf },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await api.app.inject({
          method: 'POST',
          url: '/v1/reviews/claim',
          headers: { ...session, 'x-csrf-token': csrf },
        })
      ).statusCode,
    ).toBe(204);
    // Reads need none; a form post carries it as a field.
    expect((await api.app.inject({ method: 'GET', url: '/v1/reviews', headers: session })).statusCode).toBe(200);
    const form = await api.app.inject({
      method: 'POST',
      url: '/review/claim-next',
      headers: { ...session, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${csrf}`,
    });
    expect(form.statusCode).toBe(303);
    const formNoToken = await api.app.inject({
      method: 'POST',
      url: '/review/claim-next',
      headers: { ...session, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(formNoToken.statusCode).toBe(403);
    expect(
      (
        await api.app.inject({
          method: 'POST',
          url: '/v1/reviews/claim',
          headers: { authorization: `Bearer ${TOKENS.reviewer}` },
        })
      ).statusCode,
    ).toBe(204);
  });

  it('rate-limits sign-in per account name and address, whatever the password', async () => {
    for (let i = 0; i < 4; i++) expect((await signIn('ops-session', 'wrong password here')).res.statusCode).toBe(401);
    const limited = await signIn('ops-session');
    expect(limited.res.statusCode).toBe(429);
    expect(limited.res.json()).toMatchObject({ code: 'LOGIN_RATE_LIMITED' });
    const form = await api.app.inject({
      method: 'POST',
      url: '/review/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `name=ops-session&password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(form.statusCode).toBe(429);
    // Another name is not held back by that one.
    expect((await signIn('dr-session')).res.statusCode).toBe(200);
  });

  it('answers with nosniff and no framing everywhere, and no-store on the API', async () => {
    for (const url of ['/v1/reviews', '/healthz', '/docs', '/review/login']) {
      const res = await api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKENS.reviewer}` } });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      if (url.startsWith('/v1/')) expect(res.headers['cache-control'], url).toBe('no-store');
    }
  });

  it('counts each attempt before checking its password: of 30 parallel guesses only the limit are checked', async () => {
    const guesses = await Promise.all(
      Array.from({ length: 30 }, () =>
        api.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          remoteAddress: '10.20.0.1',
          payload: { name: 'parallel-target', password: 'a wrong guess, in parallel' },
        }),
      ),
    );
    const codes = guesses.map((g) => g.statusCode);
    expect(codes.filter((c) => c === 401)).toHaveLength(4); // LOGIN_RATE_MAX in this suite
    expect(codes.filter((c) => c === 429)).toHaveLength(26);
  });

  it('limits spraying over account names from one address, and guessing one account from many addresses', async () => {
    const from = (address: string, name: string, headers: Record<string, string> = {}) =>
      api.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: address,
        headers,
        payload: { name, password: 'one password sprayed everywhere' },
      });
    // 50 attempts per address over any names (the default), each name tried once.
    const spray = [];
    for (let i = 0; i < 51; i++) spray.push((await from('10.30.0.1', `sprayed-${i}`)).statusCode);
    expect(spray.slice(0, 50).every((c) => c === 401)).toBe(true);
    expect(spray[50]).toBe(429);
    // 30 attempts per account from any address (the default).
    const spread = [];
    for (let i = 0; i < 31; i++) spread.push((await from(`10.40.0.${i + 1}`, 'ops-session-2')).statusCode);
    expect(spread.slice(0, 30).every((c) => c === 401)).toBe(true);
    expect(spread[30]).toBe(429);
    // Without trusted proxies, X-Forwarded-For does not change the address that is counted.
    const spoofed = [];
    for (let i = 0; i < 5; i++)
      spoofed.push((await from('10.50.0.1', 'spoof-target', { 'x-forwarded-for': `192.0.2.${i + 1}` })).statusCode);
    expect(spoofed).toEqual([401, 401, 401, 401, 429]);
  });

  it('the review UI signs in with a form, refuses cross-origin posts and open redirects', async () => {
    const ok = await api.app.inject({
      method: 'POST',
      url: '/review/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://localhost:80',
        host: 'localhost:80',
      },
      payload: `name=dr-session&password=${encodeURIComponent(PASSWORD)}&next=/review/cases/x/1`,
    });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/review/cases/x/1');
    expect(cookieOf(ok.headers['set-cookie'])).toBeTruthy();
    const evil = await api.app.inject({
      method: 'POST',
      url: '/review/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        host: 'localhost:80',
      },
      payload: `name=dr-session&password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(evil.statusCode).toBe(403);
    const away = await api.app.inject({
      method: 'POST',
      url: '/review/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `name=dr-session&password=${encodeURIComponent(PASSWORD)}&next=//evil.example/x`,
    });
    expect(away.headers.location).toBe('/review');
    // A CR/LF in `next` would split the Location header: it falls back to the queue instead of a 500.
    const split = await api.app.inject({
      method: 'POST',
      url: '/review/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `name=dr-session&password=${encodeURIComponent(PASSWORD)}&next=${encodeURIComponent('/review\r\nSet-Cookie: x=1')}`,
    });
    expect(split.statusCode).toBe(303);
    expect(split.headers.location).toBe('/review');
    // Malformed review item ids are a redirect with a message, not a 500.
    for (const url of [
      '/review/cases/bad%20id!/1/claim',
      '/review/cases/x/notanumber/release',
      '/review/cases/x/0/decision',
    ]) {
      const res = await api.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${TOKENS.reviewer}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      });
      expect(res.statusCode, url).toBe(303);
      expect(res.headers.location, url).toMatch(/^\/review\?error=/);
    }
    const page = await api.app.inject({ method: 'GET', url: '/review/login?next=/review' });
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.body).toContain('<form method="post" action="/review/login"');
  });

  it('admins manage accounts; a password change ends the account’s sessions', async () => {
    const admin = { authorization: `Bearer ${TOKENS.admin}` };
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: admin,
      payload: { name: 'dr-new', password: 'a fresh long password', roles: ['reviewer', 'kb_editor'] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'dr-new', roles: ['kb_editor', 'reviewer'], disabled: false });
    expect(created.body).not.toContain('password');
    expect(
      (
        await api.app.inject({
          method: 'POST',
          url: '/v1/admin/accounts',
          headers: admin,
          payload: { name: 'dr-new', password: 'a fresh long password', roles: ['reviewer'] },
        })
      ).statusCode,
    ).toBe(409);
    expect(
      (
        await api.app.inject({
          method: 'POST',
          url: '/v1/admin/accounts',
          headers: admin,
          payload: { name: 'dr-weak', password: 'short', roles: ['reviewer'] },
        })
      ).json<{ detail: string }>().detail,
    ).toMatch(/12 characters/);
    const s = await signIn('dr-new', 'a fresh long password');
    expect(s.res.statusCode).toBe(200);
    const changed = await api.app.inject({
      method: 'PATCH',
      url: '/v1/admin/accounts/dr-new',
      headers: admin,
      payload: { password: 'another long password' },
    });
    expect(changed.statusCode).toBe(200);
    const after = await api.app.inject({
      method: 'GET',
      url: '/v1/reviews',
      headers: { cookie: `co_session=${s.cookie!}` },
    });
    expect([after.statusCode, after.json<{ code: string }>().code]).toEqual([401, 'SESSION_EXPIRED']);
    expect((await signIn('dr-new', 'a fresh long password')).res.statusCode).toBe(401);
    expect((await signIn('dr-new', 'another long password')).res.statusCode).toBe(200);
    const stored = await accounts.get('dr-new');
    expect(JSON.stringify(stored)).not.toContain('another long password');
  });

  it('records sign-ins, failed and rate-limited sign-ins, sign-outs, account changes and refusals in the chained security log', async () => {
    const admin = { authorization: `Bearer ${TOKENS.admin}` };
    const ops = { authorization: `Bearer ${TOKENS.ops}` };
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: admin,
      payload: { name: 'dr-audited', password: 'an audited long password', roles: ['reviewer'] },
    });
    expect(created.statusCode).toBe(201);
    expect((await signIn('dr-audited', 'a wrong password')).res.statusCode).toBe(401);
    const s = await signIn('dr-audited', 'an audited long password');
    expect(s.res.statusCode).toBe(200);
    // A reviewer asking for an ops route is refused, and that is recorded.
    const refused = await api.app.inject({
      method: 'GET',
      url: '/v1/ops/dead-letters',
      headers: { cookie: `co_session=${s.cookie!}` },
    });
    expect(refused.statusCode).toBe(403);
    const out = await api.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { cookie: `co_session=${s.cookie!}`, 'x-csrf-token': s.csrf },
    });
    expect(out.statusCode).toBe(204);
    const patched = await api.app.inject({
      method: 'PATCH',
      url: '/v1/admin/accounts/dr-audited',
      headers: admin,
      payload: { roles: ['reviewer', 'ops'], password: 'a replaced long password' },
    });
    expect(patched.statusCode).toBe(200);
    // Guesses past the limit (LOGIN_RATE_MAX 4): refused, and recorded once, not once per guess.
    for (let i = 0; i < 8; i++) await signIn('dr-audited', `guess ${i}`);

    const page = await api.app.inject({ method: 'GET', url: '/v1/ops/security-events?limit=1000', headers: ops });
    expect(page.statusCode).toBe(200);
    const { events } = page.json<{ events: Array<Record<string, unknown> & { detail: Record<string, unknown> }> }>();
    const mine = events.filter((e) => e.actor === 'dr-audited' || e.detail.account === 'dr-audited');
    expect(mine.map((e) => [e.event, e.actor])).toEqual([
      ['account_created', 't-admin'],
      ['sign_in_failed', 'dr-audited'],
      ['sign_in', 'dr-audited'],
      ['access_denied', 'dr-audited'],
      ['sign_out', 'dr-audited'],
      ['account_changed', 't-admin'],
      // The successful sign-in cleared this address and name's count: four more guesses are checked.
      ['sign_in_failed', 'dr-audited'],
      ['sign_in_failed', 'dr-audited'],
      ['sign_in_failed', 'dr-audited'],
      ['sign_in_failed', 'dr-audited'],
      ['sign_in_rate_limited', 'dr-audited'],
    ]);
    expect(mine[0]).toMatchObject({ actorType: 'staff_token', detail: { account: 'dr-audited', roles: 'reviewer' } });
    expect(mine[2]).toMatchObject({ actorType: 'staff_session', address: '127.0.0.1', detail: { via: 'api' } });
    expect(mine[3]!.detail).toEqual({ method: 'GET', route: '/v1/ops/dead-letters', reason: 'roles' });
    expect(mine[5]!.detail).toEqual({ account: 'dr-audited', changed: 'password+roles', roles: 'reviewer+ops' });
    // Never a password, in any entry.
    expect(page.body).not.toMatch(/long password|guess \d/);
    // Every entry is chained: seq 1, 2, … with no gap, and the chain verifies.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const log = new SecurityLog(api.redis, prefix, config.audit.chainKey);
    expect(await log.verify()).toEqual({ entries: events.length, break: null });
    // Reading the log needs ops (a reviewer is refused); a bad cursor is a 400.
    expect(
      (await api.app.inject({ method: 'GET', url: '/v1/ops/security-events?after=x', headers: ops })).statusCode,
    ).toBe(400);
  });

  it('counts only the person’s own requests as activity: background requests leave the idle clock alone', async () => {
    const { cookie } = await signIn('dr-session');
    const store = new SessionStore(api.redis, prefix, config.sessions);
    const lastSeen = async () => (await store.get(cookie, { activity: false }))!.lastSeenAt;
    const before = await lastSeen();
    await waitUntil(() => Promise.resolve(Date.now() > Date.parse(before) + 5), 1000, 'the clock to move on');
    for (const headers of [{ 'x-co-background': '1' }, {}]) {
      const res = await api.app.inject({
        method: 'GET',
        url: '/v1/reviews',
        headers: { cookie: `co_session=${cookie!}`, ...headers },
      });
      expect(res.statusCode).toBe(200);
    }
    const queuePage = await api.app.inject({
      method: 'GET',
      url: '/review?refresh=auto',
      headers: { cookie: `co_session=${cookie!}` },
    });
    expect(queuePage.statusCode).toBe(200);
    // The page tells its script how long is left, so it can warn before signing out.
    expect(queuePage.body).toMatch(/<meta name="session-idle-seconds" content="900">/);
    expect(queuePage.body).toContain('id="idle-banner"');
    const after = await lastSeen();
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
    // The foreground request moved it; the background request and the auto refresh (after it) did not.
    const third = await api.app.inject({
      method: 'GET',
      url: '/review?refresh=auto',
      headers: { cookie: `co_session=${cookie!}` },
    });
    expect(third.statusCode).toBe(200);
    expect(await lastSeen()).toBe(after);
  });

  it('keeps token and account names apart, and records how each actor authenticated', async () => {
    const admin = { authorization: `Bearer ${TOKENS.admin}` };
    for (const name of ['t-reviewer', 'ehr-gateway']) {
      const res = await api.app.inject({
        method: 'POST',
        url: '/v1/admin/accounts',
        headers: admin,
        payload: { name, password: 'a fresh long password', roles: ['reviewer'] },
      });
      expect([res.statusCode, res.json<{ detail: string }>().detail]).toEqual([
        400,
        expect.stringMatching(/name of a service or staff token/),
      ]);
    }
    const created = await api.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: admin,
      payload: { name: 'dr-created', password: 'a fresh long password', roles: ['reviewer'] },
    });
    expect(created.json()).toMatchObject({ name: 'dr-created', createdBy: 't-admin' });
  });

  it('an account an editor created cannot approve that editor’s knowledge-base proposal', async () => {
    const admin = { authorization: `Bearer ${TOKENS.admin}` };
    const proposed = await api.app.inject({
      method: 'POST',
      url: '/v1/kb/edits',
      headers: admin,
      payload: {
        operation: {
          op: 'change_fact',
          factId: 'ix:drug:clopidogrel~drug:omeprazole',
          attrs: { severity: 'high', mechanism: 'Synthetic test change.', management: 'Synthetic.' },
          source: { label: 'Test', citation: 'Synthetic test source; not a clinical reference.', url: null },
        },
        reason: 'Synthetic self-approval attempt (test).',
      },
    });
    expect(proposed.statusCode).toBe(201);
    const { id } = proposed.json<{ id: string }>();
    await api.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: admin,
      payload: { name: 'kb-puppet', password: 'a puppet long password', roles: ['kb_editor'] },
    });
    const puppet = await signIn('kb-puppet', 'a puppet long password');
    const applied = await api.app.inject({
      method: 'POST',
      url: `/v1/kb/edits/${id}/apply`,
      headers: { cookie: `co_session=${puppet.cookie!}`, 'x-csrf-token': puppet.csrf },
      payload: {},
    });
    const refusal = applied.json<{ code: string; detail: string }>();
    expect([applied.statusCode, refusal.code]).toEqual([403, 'KB_SELF_REVIEW']);
    expect(refusal.detail).toMatch(/created by t-admin/);
    // The edit stays open for another reviewer (the kb-api tests show a different editor applying).
    const edit = await api.app.inject({ method: 'GET', url: `/v1/kb/edits/${id}`, headers: admin });
    expect(edit.json()).toMatchObject({ status: 'proposed' });
  });
});
