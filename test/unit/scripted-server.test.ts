import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_MODEL,
  methodHandler,
  parsePrompt,
  refToken,
  startScriptedServer,
  stripRef,
  type CallKind,
  type ChatHandler,
  type ScriptedServer,
  type SeedScript,
} from '../fixtures/scripted-server';

const PROMPTS = path.resolve(__dirname, '../fixtures/prompts');
const TEMPLATES = ['generate', 'cycle_infer', 'cycle_compare', 'factuality', 'correctness'] as const;
type Template = (typeof TEMPLATES)[number];

function render(domain: string, name: Template, vars: Record<string, string>): string {
  const text = readFileSync(path.join(PROMPTS, domain, `${name}.md`), 'utf8');
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`template ${domain}/${name} uses {{${key}}}, not given`);
    return value;
  });
}

interface Completion {
  choices: { index: number; message: { role: string; content: string; reasoning_content?: string; reasoning?: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  model: string;
  object: string;
}

async function chat(
  server: ScriptedServer,
  content: string,
  extra: { n?: number; model?: string; key?: string; signal?: AbortSignal } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (extra.key !== undefined) headers.authorization = `Bearer ${extra.key}`;
  const body = { model: extra.model ?? DEFAULT_MODEL, messages: [{ role: 'user', content }], ...(extra.n ? { n: extra.n } : {}) };
  return fetch(`${server.url}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal: extra.signal });
}

async function chatJson(server: ScriptedServer, content: string, extra: Parameters<typeof chat>[2] = {}): Promise<Completion> {
  const res = await chat(server, content, extra);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Completion;
}

const lastMark = (text: string) => /\[\[([YN])\]\](?![\s\S]*\[\[[YN]\]\])/.exec(text)?.[1] ?? '?';

describe('scripted server: protocol', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScriptedServer({ handler: () => ({ content: 'hello there', thinking: 'hmm' }) });
  });
  after(() => server.close());

  test('serves a chat.completion with n choices and usage from character counts', async () => {
    const prompt = 'x'.repeat(40);
    const body = await chatJson(server, prompt, { n: 3 });
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, DEFAULT_MODEL);
    assert.deepEqual(body.choices.map((c) => c.index), [0, 1, 2]);
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    assert.equal(body.usage.prompt_tokens, 10);
    const perChoice = Math.ceil(body.choices[0]!.message.content.length / 4);
    assert.equal(body.usage.completion_tokens, 3 * perChoice);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  test('lists its models; any model is served when none were named', async () => {
    const res = await fetch(`${server.url}/models`);
    const list = (await res.json()) as { data: { id: string }[] };
    assert.deepEqual(list.data.map((m) => m.id), [DEFAULT_MODEL]);
    await chatJson(server, 'hi', { model: 'anything' });
  });

  test('records requests in order, classified by the tag line', async () => {
    const start = server.requests.length;
    await chatJson(server, render('math', 'factuality', { question: 'Q', answer: 'A' }), { n: 2 });
    await chatJson(server, 'no tag here');
    const seen = server.requests.slice(start);
    assert.deepEqual(seen.map((r) => [r.kind, r.n, r.status]), [['factuality', 2, 200], ['unknown', 1, 200]]);
    assert.ok(server.countBy('factuality') >= 1);
    assert.equal(server.countBy(), server.requests.length);
    assert.equal(server.inFlight, 0);
    assert.equal(server.abandoned, 0, 'answered requests are not abandoned');
  });
});

describe('scripted server: options', () => {
  test('a strict model list answers 404 model_not_found for another model', async () => {
    const server = await startScriptedServer({ models: ['alpha', 'beta'] });
    try {
      const res = await chat(server, 'hi', { model: 'gamma' });
      assert.equal(res.status, 404);
      const body = (await res.json()) as { error: { message: string; code: string; type: string } };
      assert.deepEqual(body.error.code, 'model_not_found');
      assert.equal(body.error.message, 'The model gamma does not exist');
      assert.equal((await chat(server, 'hi', { model: 'beta' })).status, 200);
    } finally {
      await server.close();
    }
  });

  test('an API key is required on chat and models when set', async () => {
    const server = await startScriptedServer({ apiKey: 'sekret' });
    try {
      assert.equal((await chat(server, 'hi')).status, 401);
      assert.equal((await chat(server, 'hi', { key: 'wrong' })).status, 401);
      assert.equal((await chat(server, 'hi', { key: 'sekret' })).status, 200);
      assert.equal((await fetch(`${server.url}/models`)).status, 401);
      assert.equal((await fetch(`${server.url}/models`, { headers: { authorization: 'Bearer sekret' } })).status, 200);
    } finally {
      await server.close();
    }
  });

  test('maxChoices caps n like a server that ignores it', async () => {
    const server = await startScriptedServer({ maxChoices: 1 });
    try {
      const body = await chatJson(server, 'hi', { n: 4 });
      assert.equal(body.choices.length, 1);
      assert.equal(server.requests[0]!.n, 4);
    } finally {
      await server.close();
    }
  });

  test('latency is added to every chat response, and in-flight requests are tracked', async () => {
    const server = await startScriptedServer({ latencyMs: 80 });
    try {
      const started = Date.now();
      await Promise.all([chatJson(server, 'a'), chatJson(server, 'b'), chatJson(server, 'c')]);
      assert.ok(Date.now() - started >= 75);
      assert.equal(server.maxInFlight, 3);
      assert.equal(server.inFlight, 0);
    } finally {
      await server.close();
    }
  });

  for (const mode of ['inline', 'reasoning_content', 'reasoning', 'none'] as const) {
    test(`thinking is returned as ${mode}`, async () => {
      const server = await startScriptedServer({ reasoning: mode, handler: () => ({ content: 'The answer.', thinking: 'Deep thought.' }) });
      try {
        const message = (await chatJson(server, 'hi')).choices[0]!.message;
        if (mode === 'inline') {
          assert.equal(message.content, '<think>\nDeep thought.\n</think>\n\nThe answer.');
        } else {
          assert.equal(message.content, 'The answer.');
        }
        assert.equal(message.reasoning_content, mode === 'reasoning_content' ? 'Deep thought.' : undefined);
        assert.equal(message.reasoning, mode === 'reasoning' ? 'Deep thought.' : undefined);
      } finally {
        await server.close();
      }
    });
  }

  test('a cut-off reply with only thinking leaves the think block open inline', async () => {
    const server = await startScriptedServer({ handler: () => ({ content: '', thinking: 'Still going', finishReason: 'length' }) });
    try {
      const choice = (await chatJson(server, 'hi')).choices[0]!;
      assert.equal(choice.message.content, '<think>\nStill going');
      assert.equal(choice.finish_reason, 'length');
    } finally {
      await server.close();
    }
  });

  test('a failing handler becomes a 400 that names the problem', async () => {
    const server = await startScriptedServer({
      handler: () => {
        throw new Error('no such seed');
      },
    });
    try {
      const res = await chat(server, 'hi');
      assert.equal(res.status, 400);
      assert.match(await res.text(), /no such seed/);
    } finally {
      await server.close();
    }
  });
});

describe('scripted server: faults', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScriptedServer({ handler: () => ({ content: 'fine [[Y]]' }) });
  });
  after(() => server.close());

  test('429 carries Retry-After; 500, 503 and 400 carry error bodies; each fault is used once', async () => {
    server.inject({ kind: '429', retryAfterS: 2 }, { kind: '500' }, { kind: '503' }, { kind: '400' });
    const r429 = await chat(server, 'hi');
    assert.equal(r429.status, 429);
    assert.equal(r429.headers.get('retry-after'), '2');
    for (const status of [500, 503, 400]) {
      const res = await chat(server, 'hi');
      assert.equal(res.status, status);
      const body = (await res.json()) as { error: { message: string } };
      assert.equal(typeof body.error.message, 'string');
    }
    assert.equal((await chat(server, 'hi')).status, 200);
    assert.equal(server.pendingFaults, 0);
  });

  test('reset closes the connection without an answer and is not counted as abandoned', async () => {
    const abandoned = server.abandoned;
    server.inject({ kind: 'reset' });
    await assert.rejects(chat(server, 'hi'));
    assert.equal(server.abandoned, abandoned);
    assert.equal(server.requests.at(-1)!.status, 0);
  });

  test('invalid_json answers 200 with a body that does not parse', async () => {
    server.inject({ kind: 'invalid_json' });
    const res = await chat(server, 'hi');
    assert.equal(res.status, 200);
    await assert.rejects(res.json(), SyntaxError);
  });

  test('slow waits before answering', async () => {
    server.inject({ kind: 'slow', ms: 120 });
    const started = Date.now();
    await chatJson(server, 'hi');
    assert.ok(Date.now() - started >= 110);
  });

  test('length truncates every choice; unparseable drops the verdict mark', async () => {
    server.inject({ kind: 'length' }, { kind: 'unparseable' });
    const cut = await chatJson(server, 'hi', { n: 2 });
    assert.deepEqual(cut.choices.map((c) => c.finish_reason), ['length', 'length']);
    assert.ok(cut.choices[0]!.message.content.length < 'fine [[Y]]'.length);
    const vague = await chatJson(server, 'hi');
    assert.equal(lastMark(vague.choices[0]!.message.content), '?');
    assert.doesNotMatch(vague.choices[0]!.message.content, /\b(yes|no|y|n)\b/i);
  });

  test('a fault with match waits for a request of that kind', async () => {
    server.inject({ kind: '500', match: 'correctness' });
    assert.equal((await chat(server, render('math', 'factuality', { question: 'q', answer: 'a' }))).status, 200);
    assert.equal(server.pendingFaults, 1);
    assert.equal((await chat(server, render('math', 'correctness', { question: 'q', answer: 'a' }))).status, 500);
    assert.equal(server.pendingFaults, 0);
  });

  test('a client that goes away before the answer is counted as abandoned', async () => {
    const abandoned = server.abandoned;
    server.inject({ kind: 'slow', ms: 2000 });
    const controller = new AbortController();
    const pending = chat(server, 'hi', { signal: controller.signal });
    await waitFor(() => server.inFlight === 1);
    controller.abort();
    await assert.rejects(pending);
    await waitFor(() => server.abandoned === abandoned + 1);
    assert.equal(server.inFlight, 0);
  });
});

describe('test prompt templates', () => {
  const domains = ['math', 'science', 'coding'];
  const expected: Record<Template, CallKind> = {
    generate: 'generate',
    cycle_infer: 'cycle_infer',
    cycle_compare: 'cycle_compare',
    factuality: 'factuality',
    correctness: 'correctness',
  };

  test('every template is classified and its sections come back intact', () => {
    const question = 'What is 2 + 3?\nShow the work.';
    const answer = 'It is 5.\n\n\\boxed{5}';
    const inferred = 'What is two plus three?';
    for (const domain of domains) {
      for (const name of TEMPLATES) {
        const content = render(domain, name, { question, answer, inferred_question: inferred });
        const parsed = parsePrompt({ messages: [{ role: 'user', content }] });
        assert.equal(parsed.kind, expected[name], `${domain}/${name}`);
        assert.equal(parsed.domain, domain);
        if (name === 'cycle_infer') {
          assert.equal(parsed.question, undefined, 'cycle_infer must not show the question');
          assert.equal(parsed.answer, answer);
        }
        if (name === 'generate') assert.equal(parsed.question, question);
        if (name === 'cycle_compare') assert.deepEqual([parsed.question, parsed.inferred], [question, inferred]);
        if (name === 'factuality' || name === 'correctness') assert.deepEqual([parsed.question, parsed.answer], [question, answer]);
      }
    }
  });

  test('templates use only their own placeholders', () => {
    const allowed: Record<Template, string[]> = {
      generate: ['question'],
      cycle_infer: ['answer'],
      cycle_compare: ['question', 'inferred_question'],
      factuality: ['question', 'answer'],
      correctness: ['question', 'answer'],
    };
    for (const domain of domains) {
      for (const name of TEMPLATES) {
        const text = readFileSync(path.join(PROMPTS, domain, `${name}.md`), 'utf8');
        const used = [...new Set([...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]))].sort();
        assert.deepEqual(used, [...allowed[name]].sort(), `${domain}/${name}`);
      }
    }
  });
});

describe('methodHandler', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScriptedServer();
  });
  after(() => server.close());

  const use = (seeds: SeedScript[]): ChatHandler => {
    const handler = methodHandler(seeds);
    server.setHandler(handler);
    return handler;
  };
  const generate = async (domain: string, question: string, n: number) =>
    (await chatJson(server, render(domain, 'generate', { question }), { n })).choices;
  const answerOf = (content: string) => content.slice(content.lastIndexOf('</think>') + '</think>'.length).trim();

  test('generation follows the per-candidate plan', async () => {
    use([{ question: 'Q zero' }, { question: 'Q one', answers: ['wrong', 'right', 'invalid', 'truncated'] }]);
    const choices = await generate('math', 'Q one', 4);
    const [wrong, right, invalid, truncated] = choices.map((c) => c.message.content);
    assert.match(wrong!, /\\boxed\{18\}/);
    assert.match(right!, /\\boxed\{17\}/);
    assert.ok(right!.includes(refToken(1, 1)));
    assert.doesNotMatch(invalid!, /\\boxed/);
    assert.ok(invalid!.includes(refToken(1, 2)));
    assert.ok(truncated!.startsWith('<think>') && !truncated!.includes('</think>'));
    assert.deepEqual(choices.map((c) => c.finish_reason), ['stop', 'stop', 'stop', 'length']);
  });

  test('coding answers are fenced python blocks; custom values are used', async () => {
    use([{ question: 'Write f', rightAnswer: '"ok"', wrongAnswer: '"bad"', answers: ['right', 'wrong'] }]);
    const [right, wrong] = (await generate('coding', 'Write f', 2)).map((c) => c.message.content);
    assert.match(right!, /```python\ndef solve\(\):\n {4}return "ok"\n```/);
    assert.match(wrong!, /return "bad"/);
  });

  test('single requests number candidates by arrival, after a partial batch', async () => {
    use([{ question: 'Q', answers: ['right', 'right', 'wrong'] }]);
    await generate('math', 'Q', 2);
    const third = (await generate('math', 'Q', 1))[0]!.message.content;
    assert.ok(third.includes(refToken(0, 2)));
    assert.match(third, /\\boxed\{8\}/);
  });

  test('an unknown question is reported, not answered', async () => {
    use([{ question: 'Known' }]);
    const res = await chat(server, render('math', 'generate', { question: 'Unknown' }));
    assert.equal(res.status, 400);
    assert.match(await res.text(), /no seed has the question/);
  });

  test('cycle: inference sees only the answer; comparison votes follow the plan by inferred vote index', async () => {
    use([
      { question: 'Q0' },
      { question: 'Q1', cycle: ['N', 'Y', 'Y'] },
      { question: 'Q2', inferred: 'Something else' },
    ]);
    for (const [seed, expectedMarks] of [[0, 'YYY'], [1, 'NYY'], [2, 'NNN']] as const) {
      const question = `Q${seed}`;
      const answer = answerOf((await generate('science', question, 1))[0]!.message.content);
      const inferred = (await chatJson(server, render('science', 'cycle_infer', { answer }), { n: 3 })).choices.map((c) =>
        answerOf(c.message.content),
      );
      assert.deepEqual(inferred.map(stripRef), Array(3).fill(seed === 2 ? 'Something else' : question));
      // Compared in reverse order: the vote index comes from the inferred text, not from arrival.
      const marks: string[] = [];
      for (const text of [...inferred].reverse()) {
        const reply = await chatJson(server, render('science', 'cycle_compare', { question, inferred_question: text }));
        marks.unshift(lastMark(reply.choices[0]!.message.content));
      }
      assert.equal(marks.join(''), expectedMarks, question);
    }
  });

  test("judges: right answers pass, wrong fail, and a plan can set one vote (seed 1's third correctness vote says N)", async () => {
    use([{ question: 'A', answers: ['right', 'wrong'] }, { question: 'B', correctness: ['Y', 'Y', 'N'], factuality: 'unparseable' }]);
    const answersA = (await generate('math', 'A', 2)).map((c) => answerOf(c.message.content));
    const answerB = answerOf((await generate('math', 'B', 1))[0]!.message.content);
    const marks = async (stage: 'factuality' | 'correctness', question: string, answer: string) =>
      (await chatJson(server, render('math', stage, { question, answer }), { n: 3 })).choices.map((c) => lastMark(c.message.content)).join('');
    assert.equal(await marks('factuality', 'A', answersA[0]!), 'YYY');
    assert.equal(await marks('factuality', 'A', answersA[1]!), 'NNN');
    assert.equal(await marks('correctness', 'A', answersA[1]!), 'NNN');
    assert.equal(await marks('correctness', 'B', answerB), 'YYN');
    assert.equal(await marks('factuality', 'B', answerB), '???');
  });

  test('unbatched votes are numbered per candidate and stage', async () => {
    use([{ question: 'C', correctness: ['Y', 'N', 'Y'] }]);
    const answer = answerOf((await generate('math', 'C', 1))[0]!.message.content);
    const marks: string[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = await chatJson(server, render('math', 'correctness', { question: 'C', answer }));
      marks.push(lastMark(reply.choices[0]!.message.content));
    }
    assert.equal(marks.join(''), 'YNY');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
