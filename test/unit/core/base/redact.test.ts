import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSvdError } from '../../../../src/core/base/errors';
import {
  MIN_SECRET_LENGTH,
  REDACTED,
  Redactor,
  apiKeyFromEnv,
  endpointAuth,
  redactSecrets,
  withoutApiKeys,
  withoutCredentials,
} from '../../../../src/core/base/redact';

const WEIRD = 'sk-a.b+c*d?e^f$g(h)i|j[k]l{m}n"o\\p';

describe('Redactor', () => {
  it('replaces a key with regex metacharacters literally, every time it occurs', () => {
    const r = new Redactor();
    r.add(WEIRD);
    assert.equal(r.secretsIn(`key=${WEIRD}; again ${WEIRD}.`), `key=${REDACTED}; again ${REDACTED}.`);
    // Nothing that merely looks like the pattern's meaning is touched.
    assert.equal(r.secretsIn('sk-aXb+c'), 'sk-aXb+c');
  });

  it('finds the key inside JSON, stringified once or twice, and URL-encoded', () => {
    const r = new Redactor();
    r.add(WEIRD);
    const body = JSON.stringify({ error: { message: `Incorrect API key provided: ${WEIRD}` } });
    assert.ok(!body.includes(WEIRD), 'the quote and the backslash are escaped in the body');
    const once = r.secretsIn(body);
    assert.equal(JSON.parse(once).error.message, `Incorrect API key provided: ${REDACTED}`);
    const line = JSON.stringify({ type: 'error', message: body });
    assert.equal(JSON.parse(JSON.parse(r.secretsIn(line)).message).error.message, `Incorrect API key provided: ${REDACTED}`);
    assert.equal(r.secretsIn(`https://h/?key=${encodeURIComponent(WEIRD)}`), `https://h/?key=${REDACTED}`);
  });

  it('ignores empty and short keys, which would redact ordinary words', () => {
    const r = new Redactor();
    for (const key of [undefined, '', 'a', 'none', 'x'.repeat(MIN_SECRET_LENGTH - 1)]) r.add(key);
    assert.equal(r.size, 0);
    const text = 'a none xxxxxxx: nothing here is a secret';
    assert.equal(r.secretsIn(text), text);
    assert.equal(r.text(text), text);
  });

  it('redacts a secret inside a longer one without leaving part of the longer', () => {
    const r = new Redactor();
    r.add('password-1234');
    r.add('admin:password-1234');
    assert.equal(r.secretsIn('auth admin:password-1234 and password-1234'), `auth ${REDACTED} and ${REDACTED}`);
  });

  it('is idempotent: redacted text redacts to itself', () => {
    const r = new Redactor();
    r.add(WEIRD);
    const once = r.text(`Bearer ${WEIRD} at https://u:p@h/v1`);
    assert.equal(r.text(once), once);
  });

  it('text() also removes credential shapes; secretsIn() leaves data alone', () => {
    const r = new Redactor();
    const text =
      'GET https://alice:s3cret@proxy.local/v1 with Authorization: Bearer abc123.def456-ghi and Basic YWxpY2U6czNjcmV0 ' +
      'and sk-proj-AbCdEfGhIjKlMnOpQrStUv and hf_AbCdEfGhIjKlMnOpQrStUvWx';
    assert.equal(r.secretsIn(text), text, 'a model may rightly write such strings in an answer');
    const out = r.text(text);
    for (const leaked of ['s3cret', 'abc123', 'YWxpY2U6', 'AbCdEfGhIjKl']) assert.ok(!out.includes(leaked), `${leaked} in ${out}`);
    assert.match(out, /https:\/\/\[redacted\]@proxy\.local\/v1/);
    assert.match(out, /Bearer \[redacted\]/);
  });

  it('text() leaves prose and plain URLs as they are', () => {
    const r = new Redactor();
    for (const text of [
      'Bearer authentication failed for the basic plan',
      'http://127.0.0.1:8000/v1 answered 500: upstream error',
      'write to user@example.com about the task-1234567890abcdefghijkl',
    ]) {
      assert.equal(r.text(text), text);
    }
  });

  it('a miss on a short string stays cheap', () => {
    const r = new Redactor();
    r.add('sk-proj-AbCdEfGh1234567890abcdefXYZ');
    r.add(WEIRD);
    const text = 'http://127.0.0.1:8000/v1 answered 500: upstream timed out';
    const n = 100_000;
    for (let i = 0; i < 1000; i++) r.text(text);
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) r.text(text);
    const ns = Number(process.hrtime.bigint() - started) / n;
    // A few hundred ns on a quiet machine; the bound leaves room for a loaded one.
    assert.ok(ns < 5000, `${ns.toFixed(0)} ns per call`);
  });
});

describe('the process-wide secrets', () => {
  it('apiKeyFromEnv picks SVD_API_KEY first and registers every key the environment holds', () => {
    const env = { SVD_API_KEY: 'sk-svd-env-key-0001', OPENAI_API_KEY: 'sk-openai-env-key-0002', HF_TOKEN: 'hf_token_value_0003' };
    assert.equal(apiKeyFromEnv(env), 'sk-svd-env-key-0001');
    assert.equal(apiKeyFromEnv({ OPENAI_API_KEY: 'sk-openai-env-key-0002' }), 'sk-openai-env-key-0002');
    assert.equal(apiKeyFromEnv({ SVD_API_KEY: '' }), undefined);
    assert.equal(redactSecrets(Object.values(env).join(' ')), [REDACTED, REDACTED, REDACTED].join(' '));
  });

  it('withoutApiKeys keeps everything but the model server keys', () => {
    const env = withoutApiKeys({ SVD_API_KEY: 'a', OPENAI_API_KEY: 'b', HF_TOKEN: 'c', PATH: '/bin' });
    assert.deepEqual(env, { HF_TOKEN: 'c', PATH: '/bin' });
  });
});

describe('base URLs with credentials', () => {
  it('withoutCredentials drops user:password@ and nothing else', () => {
    assert.equal(withoutCredentials('https://u:p@host.example:8443/v1'), 'https://host.example:8443/v1');
    assert.equal(withoutCredentials('https://u@host/v1/'), 'https://host/v1/');
    assert.equal(withoutCredentials('http://u:p@host'), 'http://host');
    assert.equal(withoutCredentials('http://host:8000/v1'), 'http://host:8000/v1');
    assert.equal(withoutCredentials('not a url'), 'not a url');
  });

  it('endpointAuth sends the credentials as Basic auth and registers them as secrets', () => {
    const auth = endpointAuth('https://svd:pa%40ss-word-77@proxy.local/v1', undefined);
    assert.equal(auth.baseURL, 'https://proxy.local/v1');
    const basic = Buffer.from('svd:pa@ss-word-77').toString('base64');
    assert.deepEqual(auth.headers, { Authorization: `Basic ${basic}` });
    assert.equal(redactSecrets(`pa@ss-word-77 ${basic}`), `${REDACTED} ${REDACTED}`);
    assert.deepEqual(endpointAuth('http://127.0.0.1:8000/v1', 'sk-key-000000'), { baseURL: 'http://127.0.0.1:8000/v1' });
  });

  it('endpointAuth refuses credentials and a key together, naming both fixes', () => {
    assert.throws(
      () => endpointAuth('https://svd:pass-word-88@proxy.local/v1', 'sk-a-key-0000'),
      (error: unknown) => isSvdError(error, 'bad_config') && /SVD_API_KEY/.test(error.message) && !error.message.includes('pass-word-88'),
    );
  });
});
