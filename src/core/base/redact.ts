// The secrets in play and their removal from text. A key is added where it enters (the environment, the editor's
// secret storage, a client built with it); every text the project writes or prints passes a sink that redacts it,
// so a server that echoes the key in an error body, or a model that repeats it, leaves no trace of it.
import { SvdError } from './errors';

export const REDACTED = '[redacted]';

/** Where the CLI reads the model server's key, first found wins. */
export const API_KEY_ENV = ['SVD_API_KEY', 'OPENAI_API_KEY'] as const;
/** Tokens a local trainer may need (gated Hugging Face models) and keeps, but that no record may show. */
const TRAINER_TOKEN_ENV = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const;

/**
 * Shorter values are not redacted: a key of a few letters would turn every occurrence of an ordinary word in the
 * model's answers into the marker, and a key that short is no secret anyway.
 */
export const MIN_SECRET_LENGTH = 8;

// Credential shapes, for messages and logs (never for the run's data, where a model may rightly write a URL with a
// password in a code answer): userinfo in a URL, an HTTP bearer or basic token, the usual API key prefixes.
// A token needs a digit or a token character, so that "Bearer authentication" stays prose.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;
const AUTH_TOKEN = /\b(bearer|basic)(\s+)(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/-]{12,}=*/gi;
const KEY_SHAPE = /\b(?:sk|hf)[-_][A-Za-z0-9_-]{20,}/g;
// Cheap tests first: most messages name a URL without credentials and hold no token.
const AUTH_GATE = /bearer|basic/i;
const KEY_GATE = /sk[-_]|hf_/;

/** A set of secret values and the text forms they take once written: raw, JSON-escaped (once, twice), URL-encoded. */
export class Redactor {
  private readonly secrets = new Set<string>();
  /**
   * Per secret, its forms (longest first) and the prefix they share: one search for the prefix rules them all out,
   * which keeps a miss (nearly every call) at one scan per secret. Longest secrets first, so that a secret inside
   * another (a password inside user:password) never leaves half of the longer one.
   */
  private groups: { probe: string; forms: string[] }[] = [];

  /** Adds a secret; empty, short or known values are ignored. */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    const once = JSON.stringify(secret).slice(1, -1);
    const twice = JSON.stringify(once).slice(1, -1);
    const forms = [...new Set([secret, once, twice, encodeURIComponent(secret)])].sort((a, b) => b.length - a.length);
    let probe = forms.reduce((prefix, form) => {
      let n = 0;
      while (n < prefix.length && prefix[n] === form[n]) n++;
      return prefix.slice(0, n);
    });
    if (probe.length < MIN_SECRET_LENGTH) probe = '';
    this.groups.push({ probe, forms });
    this.groups.sort((a, b) => b.forms[0]!.length - a.forms[0]!.length);
  }

  get size(): number {
    return this.secrets.size;
  }

  /** The known secrets replaced by the marker; nothing else changes. Safe for the run's data. */
  secretsIn(text: string): string {
    let out = text;
    for (const { probe, forms } of this.groups) {
      if (probe !== '' && !out.includes(probe)) continue;
      for (const form of forms) if (out.includes(form)) out = out.replaceAll(form, REDACTED);
    }
    return out;
  }

  /** The known secrets and anything shaped like a credential, for messages, errors and logs. */
  text(text: string): string {
    let out = this.secretsIn(text);
    if (out.includes('@')) out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
    if (AUTH_GATE.test(out)) out = out.replace(AUTH_TOKEN, `$1$2${REDACTED}`);
    if (KEY_GATE.test(out)) out = out.replace(KEY_SHAPE, REDACTED);
    return out;
  }
}

/** The process's secrets: what the sinks (run store, cache, CLI output, logs, train.log) redact. */
export const secrets = new Redactor();

/** Known secrets out of text that is data (events, cache entries, records). */
export function redactSecrets(text: string): string {
  return secrets.secretsIn(text);
}

/** Known secrets and credential shapes out of a message, an error or a log line. */
export function redactText(text: string): string {
  return secrets.text(text);
}

/** Registers every key and token the environment holds, so that none is written even when it is not the one used. */
export function addSecretsFromEnv(env: NodeJS.ProcessEnv): void {
  for (const name of [...API_KEY_ENV, ...TRAINER_TOKEN_ENV]) secrets.add(env[name]);
}

/** The model server's key from the environment (SVD_API_KEY, else OPENAI_API_KEY), registered as a secret. */
/** The Hugging Face token for publishing, from the environment (already among the secrets redacted). */
export function hubTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const name of TRAINER_TOKEN_ENV) if (env[name]) return env[name];
  return undefined;
}

export function apiKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  addSecretsFromEnv(env);
  for (const name of API_KEY_ENV) if (env[name]) return env[name];
  return undefined;
}

/** The environment for a local trainer: everything but the model server's keys, which it has no use for. */
export function withoutApiKeys(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of API_KEY_ENV) delete out[name];
  return out;
}

// ---- base URLs with credentials ----------------------------------------------------------------------------------

/** The URL as it may be stored and shown: without `user:password@`. Text that is no URL comes back as it was. */
export function withoutCredentials(url: string): string {
  if (!url.includes('@')) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(URL_USERINFO, '$1');
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  // URL adds a slash to a bare origin; keep the caller's form otherwise.
  const text = parsed.toString();
  return !url.endsWith('/') && text.endsWith('/') && parsed.pathname === '/' ? text.slice(0, -1) : text;
}

export interface EndpointAuth {
  /** The URL requests go to, without credentials. */
  baseURL: string;
  /** `Authorization` for the credentials the URL carried, when it carried some. */
  headers?: Record<string, string>;
}

/**
 * Credentials in a base URL (a server behind a proxy with basic auth) become an HTTP Basic `Authorization` header;
 * fetch refuses such URLs, and the URL itself must not reach a record. A key and credentials cannot both be sent
 * (both are an Authorization header), so that is a config error naming the choice.
 */
export function endpointAuth(baseURL: string, apiKey: string | undefined, what = 'the base URL'): EndpointAuth {
  const bare = withoutCredentials(baseURL);
  if (bare === baseURL) return { baseURL };
  const parsed = new URL(baseURL);
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const basic = Buffer.from(`${user}:${password}`).toString('base64');
  for (const secret of [password, `${user}:${password}`, basic]) secrets.add(secret);
  if (apiKey) {
    throw new SvdError(
      'bad_config',
      `${what} ${bare} carries credentials (user:password@) and an API key is set too: both would be the ` +
        `Authorization header. Remove the credentials from the URL to send the key, or unset ${API_KEY_ENV.join(' and ')} ` +
        '(or clear the key set in the editor) to send them as HTTP Basic auth.',
    );
  }
  return { baseURL: bare, headers: { Authorization: `Basic ${basic}` } };
}
