import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointSpecs, parseEndpoints, runModelOf } from '../../../../src/core/method/endpointsFile';

const error = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('endpoints file', () => {
  test('a JSON array, an {endpoints} object and JSON lines give the same entries, with defaults', () => {
    const array = `[\n  {"url": "http://a:8000/v1", "weight": 2},\n  {"url": "http://b:8000/v1", "maxConcurrency": 32, "apiKeyEnv": "B_KEY"}\n]`;
    const wrapped = `{"endpoints": ${array}}`;
    const lines = `{"url": "http://a:8000/v1", "weight": 2}\n\n{"url": "http://b:8000/v1", "maxConcurrency": 32, "apiKeyEnv": "B_KEY"}\n`;
    const expected = [
      { url: 'http://a:8000/v1', weight: 2 },
      { url: 'http://b:8000/v1', weight: 1, maxConcurrency: 32, apiKeyEnv: 'B_KEY' },
    ];
    assert.deepEqual(parseEndpoints(array, 'e.json'), expected);
    assert.deepEqual(parseEndpoints(wrapped, 'e.json'), expected);
    assert.deepEqual(parseEndpoints(lines, 'e.jsonl'), expected);
  });

  test('errors name the file, the line and the field', () => {
    const array = `[\n  {"url": "http://a:8000/v1"},\n  {\n    "url": "http://b:8000/v1",\n    "weight": -1\n  }\n]`;
    assert.match(error(() => parseEndpoints(array, 'e.json')), /^e\.json:3: .*weight/);
    const lines = `{"url": "http://a:8000/v1"}\n{"url": "ftp://b"}\n`;
    assert.match(error(() => parseEndpoints(lines, 'e.jsonl')), /^e\.jsonl:2: .*url/);
    assert.match(error(() => parseEndpoints(`{"url": "http://a/v1"}\n{"url": `, 'e.jsonl')), /^e\.jsonl:2: not valid JSON/);
    assert.match(error(() => parseEndpoints(`{"url": "http://a/v1", "apiKeyEnv": "not a name"}`, 'e.json')), /^e\.json:1: .*apiKeyEnv/);
    assert.match(error(() => parseEndpoints('  ', 'e.json')), /no endpoints/);
  });

  test('a key in the file or in the URL is refused, with where to put it instead', () => {
    assert.match(error(() => parseEndpoints(`[{"url": "http://a/v1", "apiKey": "sk-secret-value"}]`, 'e.json')), /e\.json:1: keys are never kept in this file.*apiKeyEnv/);
    const withCredentials = error(() => parseEndpoints(`[{"url": "http://user:sk-secret-value@a/v1"}]`, 'e.json'));
    assert.match(withCredentials, /credentials do not belong in the URL/);
    assert.doesNotMatch(withCredentials, /sk-secret-value/);
  });

  test('keys come from the environment variable each entry names; the run model fills in missing models', () => {
    const entries = parseEndpoints(`{"url": "http://a/v1"}\n{"url": "http://b/v1", "model": "served-b", "apiKeyEnv": "B_KEY"}`, 'e.jsonl');
    const specs = endpointSpecs(entries, { model: 'm', apiKey: 'default-key' }, { B_KEY: 'key-of-b' });
    assert.deepEqual(specs, [
      { url: 'http://a/v1', model: 'm', weight: 1, apiKey: 'default-key' },
      { url: 'http://b/v1', model: 'served-b', weight: 1, apiKey: 'key-of-b' },
    ]);
    assert.match(error(() => endpointSpecs(entries, { model: 'm' }, {}, 'svd.endpoints')), /svd\.endpoints\[1\]: apiKeyEnv: the environment variable B_KEY is not set/);
  });

  test("the run's model: --model, else the one model every entry names", () => {
    const same = parseEndpoints(`{"url": "http://a/v1", "model": "x"}\n{"url": "http://b/v1", "model": "x"}`, 'e');
    assert.equal(runModelOf(same, undefined, '--endpoints'), 'x');
    assert.equal(runModelOf(same, 'y', '--endpoints'), 'y');
    const mixed = parseEndpoints(`{"url": "http://a/v1", "model": "x"}\n{"url": "http://b/v1"}`, 'e');
    assert.match(error(() => runModelOf(mixed, undefined, '--endpoints')), /--model: required/);
  });
});
