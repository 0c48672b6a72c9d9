import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { customIdOf, eventIdOf, parseResultLine, requestLine } from '../../../../../src/core/method/batch/lines';
import { isSvdError } from '../../../../../src/core/base/errors';

const completion = (content: string | null, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content, ...extra }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
});

describe('custom_id', () => {
  test('names run, seed, candidate, stage and vote, and maps back to the event id', () => {
    const id = customIdOf('sweep/cell-1', 'vote:q7#2:factuality:judge:1');
    assert.equal(id, 'sweep/cell-1|vote:q7#2:factuality:judge:1');
    assert.equal(eventIdOf('sweep/cell-1', id), 'vote:q7#2:factuality:judge:1');
    assert.equal(eventIdOf('seeds-1', customIdOf('seeds-1', 'cand:a|b#0')), 'cand:a|b#0');
  });

  test('a custom_id of another run, or of no sample, maps to nothing', () => {
    assert.equal(eventIdOf('seeds-1', 'seeds-2|cand:q0#0'), undefined);
    assert.equal(eventIdOf('seeds', 'seeds-1|cand:q0#0'), undefined);
    assert.equal(eventIdOf('seeds-1', 'seeds-1|outcome:q0'), undefined);
  });
});

describe('requestLine', () => {
  test('one sample per line: no n, the sampling of the request, stop only when set', () => {
    const request = { purpose: 'factuality' as const, messages: [{ role: 'user' as const, content: 'Is it right?' }], temperature: 0.6, topP: 0.95, maxTokens: 100 };
    assert.deepEqual(requestLine('r|vote:q0#0:factuality:judge:0', 'm', request), {
      custom_id: 'r|vote:q0#0:factuality:judge:0',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'm', messages: request.messages, temperature: 0.6, top_p: 0.95, max_tokens: 100 },
    });
    assert.deepEqual(requestLine('x', 'm', { ...request, stop: ['</s>'] }).body.stop, ['</s>']);
  });
});

describe('parseResultLine', () => {
  test('an OpenAI output line: the sample with its reasoning and tokens', () => {
    const line = { id: 'batch_req_1', custom_id: 'r|cand:q0#0', response: { status_code: 200, request_id: 'req_1', body: completion('The answer is \\boxed{4}.', { reasoning_content: 'add' }) }, error: null };
    assert.deepEqual(parseResultLine(JSON.stringify(line), 'f:1'), {
      customId: 'r|cand:q0#0',
      ok: true,
      sample: { text: 'The answer is \\boxed{4}.', reasoning: 'add', finishReason: 'stop', promptTokens: 12, completionTokens: 34 },
    });
  });

  test("OpenAI's error lines (a failed request, an expired one) and vLLM's failed line say why", () => {
    const failed = { id: 'b', custom_id: 'r|cand:q0#1', response: null, error: { code: 'server_error', message: 'boom' } };
    assert.deepEqual(parseResultLine(JSON.stringify(failed), 'f:2'), { customId: 'r|cand:q0#1', ok: false, reason: 'server_error: boom' });
    const expired = { id: 'b', custom_id: 'r|cand:q0#2', response: { status_code: 400, request_id: null, body: {} }, error: { code: 'batch_expired', message: 'not run in time' } };
    assert.equal((parseResultLine(JSON.stringify(expired), 'f:3') as { reason: string }).reason, 'batch_expired: not run in time');
    const vllm = { id: 'vllm-1', custom_id: 'r|cand:q1#0', response: { status_code: 400, request_id: 'vllm-batch-1' }, error: 'engine stopped' };
    assert.deepEqual(parseResultLine(JSON.stringify(vllm), 'f:4'), { customId: 'r|cand:q1#0', ok: false, reason: 'engine stopped' });
    const status = { custom_id: 'r|cand:q1#1', response: { status_code: 429, body: { error: { message: 'slow down' } } }, error: null };
    assert.equal((parseResultLine(JSON.stringify(status), 'f:5') as { reason: string }).reason, 'status 429: slow down');
  });

  test('a vLLM output line, and a response with no content, which is no answer', () => {
    const ok = { id: 'vllm-2', custom_id: 'r|vote:q0#0:cycle:infer:0', response: { status_code: 200, request_id: 'x', body: completion('What is 2 + 2?') }, error: null };
    assert.equal(parseResultLine(JSON.stringify(ok), 'f:1').ok, true);
    const empty = { ...ok, response: { status_code: 200, body: completion(null) } };
    assert.deepEqual(parseResultLine(JSON.stringify(empty), 'f:2'), { customId: ok.custom_id, ok: false, reason: 'the response has no content (content: null)' });
  });

  test('a line that is no batch result fails naming where and the field', () => {
    for (const [text, message] of [
      ['{not json', /^out\.jsonl:7: not a JSON line$/],
      ['{"custom_id": 7}', /^out\.jsonl:7: not a batch result line: custom_id/],
      ['{"custom_id": "r|cand:q0#0", "response": {"status_code": "200"}}', /^out\.jsonl:7: not a batch result line: response\.status_code/],
    ] as const) {
      assert.throws(() => parseResultLine(text, 'out.jsonl:7'), (error) => isSvdError(error, 'bad_config') && message.test(error.message));
    }
  });
});
