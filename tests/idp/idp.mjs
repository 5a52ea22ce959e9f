// Test-only OpenID Connect provider for end-to-end tests.
//
//   node tests/idp/idp.mjs CONFIG_JSON_PATH
//
// Prints exactly one line to stdout once listening:
//   ready <issuer> pid=<pid>
// Everything else (oidc-provider notices, errors) goes to stderr.
// See README.md next to this file.

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------
// stdout hygiene. oidc-provider prints its NOTICEs with console.info, which
// goes to stdout; tests parse stdout, so route console.info/log to stderr and
// drop a few known, expected warnings (in-memory adapter, Node 20 runtime).
// This must happen before oidc-provider is imported (it warns at import time).
// ---------------------------------------------------------------------------
const QUIET = [
  'Unsupported runtime',
  'quick start development-only in-memory adapter',
];
const toStderr = (...args) => process.stderr.write(`${args.map(String).join(' ')}\n`);
console.log = toStderr;
console.info = toStderr;
const origWarn = console.warn.bind(console);
console.warn = (...args) => {
  const first = String(args[0] ?? '');
  if (QUIET.some((s) => first.includes(s))) return;
  origWarn(...args);
};

const { default: Provider, errors } = await import('oidc-provider');

const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------
const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node idp.mjs CONFIG_JSON_PATH\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const port = Number(config.port ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new Error(`invalid port ${config.port}`);
}
if (port !== 0 && typeof config.issuer !== 'string') {
  throw new Error('"issuer" is required when "port" is not 0');
}
const accounts = Array.isArray(config.accounts) ? config.accounts : [];
const clients = (Array.isArray(config.clients) ? config.clients : []).map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted too
  id_token_signed_response_alg: 'RS256',
  ...c,
}));
const jwks = JSON.parse(readFileSync(join(HERE, 'jwks.json'), 'utf8'));

// ---------------------------------------------------------------------------
// Accounts / claims
// ---------------------------------------------------------------------------
// Claims that are always released with the `openid` scope (Entra-like tenant
// claims). The `tenant` scope maps to the same set, so requesting it is valid.
const TENANT_CLAIMS = ['tid', 'oid', 'groups', 'jobTitle', 'companyName', 'verified_domain'];
const CLAIMS = {
  openid: ['sub', ...TENANT_CLAIMS],
  tenant: TENANT_CLAIMS,
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'picture'],
};
const ALL_CLAIMS = [...new Set(Object.values(CLAIMS).flat())];

function accountBySub(sub) {
  return accounts.find((a) => a.sub === sub);
}

function accountByLogin(login, password) {
  const l = String(login ?? '').trim().toLowerCase();
  return accounts.find((a) => (
    (typeof a.email === 'string' && a.email.toLowerCase() === l) || a.sub === login
  ) && typeof a.password === 'string' && a.password === String(password ?? ''));
}

async function findAccount(_ctx, sub) {
  const a = accountBySub(sub);
  if (!a) return undefined;
  return {
    accountId: a.sub,
    async claims() {
      const out = { sub: a.sub };
      for (const k of ALL_CLAIMS) if (a[k] !== undefined) out[k] = a[k];
      return out;
    },
  };
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[ch]));

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:22rem;margin:3rem auto}label,input,button{display:block;width:100%;box-sizing:border-box}input{margin:.25rem 0 1rem;padding:.4rem}#error{color:#b00020}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function loginPage(uid, { error, login } = {}) {
  return page('Sign in', `<h1>Sign in</h1>
${error ? '<p id="error" role="alert">Invalid email or password.</p>' : ''}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<label for="login">Email</label>
<input id="login" name="login" type="text" autofocus value="${esc(login)}">
<label for="password">Password</label>
<input id="password" name="password" type="password">
<button id="submit" type="submit">Sign in</button>
</form>`);
}

function sendHtml(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

// ---------------------------------------------------------------------------
// Grants: consent is automatic. Whatever OIDC scopes/claims the client asks for
// are granted (used by loadExistingGrant, and by the consent interaction
// fallback below).
// ---------------------------------------------------------------------------
function grantRequested(grant, scopes, claims) {
  if (scopes?.length) grant.addOIDCScope(scopes.join(' '));
  if (claims?.length) grant.addOIDCClaims(claims);
}

// ---------------------------------------------------------------------------
// Provider
// ---------------------------------------------------------------------------
function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    clients,
    jwks,
    findAccount,
    claims: CLAIMS,
    scopes: ['openid', 'profile', 'email', 'tenant'],
    conformIdTokenClaims: false, // scope-granted claims go into the ID token too
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports
    cookies: {
      // Cookies are not isolated by port: the IdP on 127.0.0.1:<p1> and the app on
      // 127.0.0.1:<p2> share one cookie jar in the browser. Prefix the names with
      // the IdP port so they never collide with the app's cookies or with another
      // IdP instance running in parallel.
      names: {
        session: `idp${new URL(issuer).port}_session`,
        interaction: `idp${new URL(issuer).port}_interaction`,
        resume: `idp${new URL(issuer).port}_interaction_resume`,
      },
      keys: ['test-idp-cookie-key-1-not-a-secret', 'test-idp-cookie-key-2-not-a-secret'],
      // plain http on 127.0.0.1: oidc-provider only adds Secure when ctx.secure.
      long: { httpOnly: true, sameSite: 'lax', secure: false },
      short: { httpOnly: true, sameSite: 'lax', secure: false },
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Sign out', `<h1>Sign out?</h1>
${form}
<button id="logout" type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button id="stay" type="submit" form="op.logoutForm">No, stay signed in</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<h1 id="signed-out">Signed out</h1>');
        },
      },
      // Nothing the Rust client needs; keep discovery small and predictable.
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      resourceIndicators: { enabled: false },
      revocation: { enabled: false },
      introspection: { enabled: false },
      registration: { enabled: false },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Auto-consent: always return a grant that covers what is requested.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const accountId = oidc.account.accountId;
      const clientId = oidc.client.clientId;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
      let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
        grant = new oidc.provider.Grant({ accountId, clientId });
      }
      grantRequested(grant, [...oidc.requestParamOIDCScopes], [...oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Error</h1>\n${Object.entries(out)
        .map(([k, v]) => `<p class="${esc(k)}"><strong>${esc(k)}</strong>: ${esc(v)}</p>`).join('\n')}`);
    },
    // Explicit TTLs (same values as the defaults) to silence "you SHOULD change" notices.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    clientBasedCORS: () => false,
    // No outgoing network calls, ever (jwks_uri, request_uri, sector_identifier_uri...).
    fetch: async (url) => { throw new Error(`test IdP: outgoing fetch disabled (${url})`); },
  });
  provider.on('server_error', (_ctx, err) => process.stderr.write(`idp server_error: ${err?.stack ?? err}\n`));
  return provider;
}

// ---------------------------------------------------------------------------
// Interaction routes (plain node http, in front of the provider's Koa handler)
// ---------------------------------------------------------------------------
async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function finishConsent(provider, req, res, details) {
  const { prompt: { details: pd }, params, session } = details;
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (!grant) grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  grantRequested(grant, pd.missingOIDCScope, pd.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(pd.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function handleInteraction(provider, req, res, url) {
  const m = /^\/interaction\/([^/]+)(\/login)?\/?$/.exec(url.pathname);
  if (!m) return sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));
  const [, uid, isLogin] = m;

  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound || err instanceof errors.InvalidRequest) {
      return sendHtml(res, 400, page('Error', `<h1>Error</h1><p id="idp-error">${esc(err.error_description ?? err.message)}</p>`));
    }
    throw err;
  }
  if (details.uid !== uid) {
    return sendHtml(res, 400, page('Error', '<h1>Error</h1><p id="idp-error">interaction mismatch</p>'));
  }

  if (req.method === 'GET' && !isLogin) {
    if (details.prompt.name === 'consent') return finishConsent(provider, req, res, details);
    if (details.prompt.name === 'login') return sendHtml(res, 200, loginPage(uid));
    return sendHtml(res, 400, page('Error', `<h1>Unsupported prompt ${esc(details.prompt.name)}</h1>`));
  }

  if (req.method === 'POST' && isLogin) {
    const form = await readForm(req);
    if (details.prompt.name !== 'login') {
      if (details.prompt.name === 'consent') return finishConsent(provider, req, res, details);
      return sendHtml(res, 400, page('Error', '<h1>Unexpected login submission</h1>'));
    }
    const account = accountByLogin(form.get('login'), form.get('password'));
    if (!account) return sendHtml(res, 200, loginPage(uid, { error: true, login: form.get('login') }));
    return provider.interactionFinished(req, res, {
      login: { accountId: account.sub },
    }, { mergeWithLastSubmission: false });
  }

  res.statusCode = 405;
  res.setHeader('Allow', isLogin ? 'POST' : 'GET');
  return res.end();
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------
let provider;
let providerHandler;

// Test hook: for these subjects, the token endpoint's ID token gets a
// corrupted signature, so clients can prove they reject tampered tokens.
const tamperSubs = new Set(Array.isArray(config.tamper_id_token_subs) ? config.tamper_id_token_subs : []);

function tamperIdTokens(res) {
  const chunks = [];
  const end = res.end.bind(res);
  res.write = (chunk) => {
    chunks.push(Buffer.from(chunk));
    return true;
  };
  res.end = (chunk, ...rest) => {
    if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
    let body = Buffer.concat(chunks);
    try {
      const json = JSON.parse(body.toString('utf8'));
      if (typeof json.id_token === 'string') {
        const [header, payload, signature] = json.id_token.split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        if (tamperSubs.has(claims.sub)) {
          const sig = Buffer.from(signature, 'base64url');
          sig[0] ^= 0xff;
          json.id_token = [header, payload, sig.toString('base64url')].join('.');
          body = Buffer.from(JSON.stringify(json));
        }
      }
    } catch {
      // Not JSON (an error page): pass it on unchanged.
    }
    if (!res.headersSent) res.setHeader('content-length', body.length);
    return end(body, ...rest.filter((r) => typeof r === 'function'));
  };
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/interaction' || url.pathname.startsWith('/interaction/')) {
    handleInteraction(provider, req, res, url).catch((err) => {
      process.stderr.write(`idp interaction error: ${err?.stack ?? err}\n`);
      if (!res.headersSent) {
        sendHtml(res, 500, page('Error', `<h1>Internal error</h1><p id="idp-error">${esc(err?.message)}</p>`));
      } else {
        res.destroy();
      }
    });
    return;
  }
  if (tamperSubs.size > 0 && req.method === 'POST' && url.pathname === '/token') {
    tamperIdTokens(res);
  }
  providerHandler(req, res);
});
server.keepAliveTimeout = 5000;

function shutdown() {
  server.closeAllConnections();
  server.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// A vanished reader must not crash (EPIPE) or wedge the provider.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
// Opt-in: exit when stdin reaches EOF, i.e. when the parent that holds the
// write end of a stdin pipe dies without sending SIGTERM.
if (config.exit_on_stdin_eof === true) {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

server.on('error', (err) => {
  process.stderr.write(`idp: listen error: ${err?.stack ?? err}\n`);
  process.exit(1);
});

server.listen(port, '127.0.0.1', () => {
  const actualPort = server.address().port;
  const issuer = (port === 0 ? `http://127.0.0.1:${actualPort}` : config.issuer).replace(/\/+$/, '');
  provider = buildProvider(issuer);
  providerHandler = provider.callback();
  process.stdout.write(`ready ${issuer} pid=${process.pid}\n`);
});
