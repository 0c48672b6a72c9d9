import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as esbuild from 'esbuild';
import { isSvdError } from '../../../../src/core/base/errors';
import { PromptSet, TEMPLATE_NAMES, builtinPromptsDir } from '../../../../src/core/method/prompts';
import type { TemplateName, TemplateVars } from '../../../../src/core/method/prompts';
import { DOMAINS } from '../../../../src/core/base/types';

const ROOT = path.resolve(__dirname, '../../../..');
const BUILTIN = path.join(ROOT, 'prompts');
const JUDGES: readonly TemplateName[] = ['cycle_compare', 'factuality', 'correctness'];

const VARS: Required<TemplateVars> = {
  question: 'QUESTION-7f3a',
  answer: 'ANSWER-91bc',
  inferred_question: 'INFERRED-22de',
  language: 'LANG-5e01',
};

function valid(name: TemplateName): string {
  switch (name) {
    case 'generate':
      return 'G {{question}}';
    case 'cycle_infer':
      return 'I {{answer}}';
    case 'cycle_compare':
      return 'C {{question}} / {{inferred_question}} [[Y]] [[N]]';
    default:
      return `${name} {{question}} / {{answer}} [[Y]] [[N]]`;
  }
}

/** A complete template folder, so a test changes one file and knows every other one is fine. */
async function templateDir(parent: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(parent, 'prompts-'));
  for (const domain of DOMAINS) {
    await mkdir(path.join(dir, domain));
    for (const name of TEMPLATE_NAMES) await writeFile(path.join(dir, domain, `${name}.md`), valid(name));
  }
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  return dir;
}

async function loadError(options: { overrideDir?: string; builtinDir?: string }): Promise<Error> {
  try {
    await PromptSet.load(options);
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('load should have failed');
}

let tmp = '';
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'svd-prompts-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('built-in templates', () => {
  test('builtinPromptsDir finds the package prompts folder from source', () => {
    assert.equal(builtinPromptsDir(), BUILTIN);
  });

  test('every domain and name loads from the built-in folder and renders with every value substituted', async () => {
    const prompts = await PromptSet.load();
    for (const domain of DOMAINS) {
      for (const name of TEMPLATE_NAMES) {
        assert.equal(prompts.source(domain, name), path.join(BUILTIN, domain, `${name}.md`));
        const messages = prompts.render(domain, name, VARS);
        assert.equal(messages.length, 1);
        const [message] = messages;
        assert.equal(message?.role, 'user');
        const content = message?.content ?? '';
        assert.doesNotMatch(content, /\{\{|\}\}/, `${domain}/${name} left a placeholder`);
        assert.ok(content.length > 200, `${domain}/${name} is suspiciously short`);
        if (name !== 'cycle_infer') assert.ok(content.includes(VARS.question), `${domain}/${name} lacks the question`);
        if (name === 'cycle_infer' || name === 'factuality' || name === 'correctness') {
          assert.ok(content.includes(VARS.answer), `${domain}/${name} lacks the answer`);
        }
        if (name === 'cycle_compare') assert.ok(content.includes(VARS.inferred_question));
      }
    }
  });

  test('cycle_infer never contains the question, even when the caller passes it', async () => {
    const prompts = await PromptSet.load();
    for (const domain of DOMAINS) {
      const content = prompts.render(domain, 'cycle_infer', VARS)[0]?.content ?? '';
      assert.ok(!content.includes(VARS.question), `${domain}/cycle_infer shows the question`);
      const raw = await readFile(prompts.source(domain, 'cycle_infer'), 'utf8');
      assert.doesNotMatch(raw, /\{\{\s*question\s*\}\}/);
    }
  });

  test('every judge template asks to end with [[Y]] or [[N]]; the others do not', async () => {
    const prompts = await PromptSet.load();
    for (const domain of DOMAINS) {
      for (const name of TEMPLATE_NAMES) {
        const content = prompts.render(domain, name, VARS)[0]?.content ?? '';
        const asks = content.includes('[[Y]]') && content.includes('[[N]]');
        assert.equal(asks, JUDGES.includes(name), `${domain}/${name}`);
      }
    }
  });

  test('generation asks for the answer format the static filter checks', async () => {
    const prompts = await PromptSet.load();
    for (const domain of ['math', 'science'] as const) {
      const content = prompts.render(domain, 'generate', VARS)[0]?.content ?? '';
      assert.match(content, /\\boxed\{\}/);
      assert.match(content, /step by step/i);
    }
    const coding = prompts.render('coding', 'generate', VARS)[0]?.content ?? '';
    assert.match(coding, /fenced code block/);
    assert.match(coding, /Python/);
  });

  test('coding judges talk about code; correctness asks for a reference solution first', async () => {
    const prompts = await PromptSet.load();
    const correctness = prompts.render('coding', 'correctness', VARS)[0]?.content ?? '';
    assert.match(correctness, /edge case/i);
    assert.match(correctness, /test/i);
    for (const domain of DOMAINS) {
      const content = prompts.render(domain, 'correctness', VARS)[0]?.content ?? '';
      assert.match(content, /^First /m, `${domain}/correctness`);
    }
  });

  test('builtinPromptsDir also works from an esbuild CommonJS bundle below the package root', async () => {
    const cache = path.join(ROOT, '.test-cache');
    await mkdir(cache, { recursive: true });
    const outdir = await mkdtemp(path.join(cache, 'bundle-'));
    try {
      const outfile = path.join(outdir, 'prompts.js');
      await esbuild.build({
        entryPoints: [path.join(ROOT, 'src/core/method/prompts.ts')],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        outfile,
        logLevel: 'silent',
      });
      const bundled = createRequire(outfile)(outfile) as { builtinPromptsDir: () => string };
      assert.equal(bundled.builtinPromptsDir(), BUILTIN);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });
});

describe('overrides', () => {
  test('per domain, then global, then built-in', async () => {
    const dir = await mkdtemp(path.join(tmp, 'override-'));
    await mkdir(path.join(dir, 'math'));
    await writeFile(path.join(dir, 'math', 'correctness.md'), 'MATH-ONLY {{question}} {{answer}}');
    await writeFile(path.join(dir, 'correctness.md'), 'GLOBAL {{question}} {{answer}}');
    await writeFile(path.join(dir, 'factuality.md'), 'GLOBAL-F {{question}} {{answer}}');
    const prompts = await PromptSet.load({ overrideDir: dir });

    assert.equal(prompts.source('math', 'correctness'), path.join(dir, 'math', 'correctness.md'));
    assert.equal(prompts.render('math', 'correctness', VARS)[0]?.content, `MATH-ONLY ${VARS.question} ${VARS.answer}`);
    for (const domain of ['science', 'coding'] as const) {
      assert.equal(prompts.source(domain, 'correctness'), path.join(dir, 'correctness.md'));
      assert.equal(prompts.render(domain, 'correctness', VARS)[0]?.content, `GLOBAL ${VARS.question} ${VARS.answer}`);
    }
    for (const domain of DOMAINS) {
      assert.equal(prompts.source(domain, 'factuality'), path.join(dir, 'factuality.md'));
      assert.equal(prompts.source(domain, 'generate'), path.join(BUILTIN, domain, 'generate.md'));
    }
  });

  test('the fixture folder used by other tests loads', async () => {
    const fixtures = path.join(ROOT, 'test/fixtures/prompts');
    const prompts = await PromptSet.load({ overrideDir: fixtures });
    assert.equal(prompts.source('science', 'cycle_infer'), path.join(fixtures, 'science', 'cycle_infer.md'));
  });

  test('an override that links outside the prompts folder is refused; a link inside it is followed', { skip: process.platform === 'win32' }, async () => {
    const outside = path.join(await mkdtemp(path.join(tmp, 'outside-')), 'secret.md');
    await writeFile(outside, 'LEAK {{question}}');
    const leaky = await mkdtemp(path.join(tmp, 'leaky-'));
    await symlink(outside, path.join(leaky, 'generate.md'));
    const error = await loadError({ overrideDir: leaky });
    assert.ok(isSvdError(error, 'bad_config'), String(error));
    assert.ok(error.message.includes(path.join(leaky, 'generate.md')), error.message);
    assert.match(error.message, /outside the prompts folder/);

    // A domain folder that is a link to elsewhere leads outside just the same.
    const viaFolder = await mkdtemp(path.join(tmp, 'via-folder-'));
    await symlink(path.dirname(outside), path.join(viaFolder, 'math'));
    await rename(outside, path.join(path.dirname(outside), 'generate.md'));
    assert.match((await loadError({ overrideDir: viaFolder })).message, /outside the prompts folder/);

    const tidy = await mkdtemp(path.join(tmp, 'tidy-'));
    await mkdir(path.join(tidy, 'shared'));
    await writeFile(path.join(tidy, 'shared', 'generate.md'), 'SHARED {{question}}');
    await symlink(path.join('shared', 'generate.md'), path.join(tidy, 'generate.md'));
    // Reached through a link to the folder itself: still inside.
    const alias = path.join(tmp, `alias-${path.basename(tidy)}`);
    await symlink(tidy, alias);
    for (const dir of [tidy, alias]) {
      const prompts = await PromptSet.load({ overrideDir: dir });
      assert.equal(prompts.render('math', 'generate', VARS)[0]?.content, `SHARED ${VARS.question}`);
    }
  });

  test('a relative override folder is resolved', async () => {
    const dir = await mkdtemp(path.join(tmp, 'relative-'));
    await writeFile(path.join(dir, 'generate.md'), 'REL {{question}}');
    const prompts = await PromptSet.load({ overrideDir: path.relative(process.cwd(), dir) });
    assert.equal(prompts.source('math', 'generate'), path.join(dir, 'generate.md'));
  });

  test('a missing override folder is a bad_config naming it', async () => {
    const missing = path.join(tmp, 'no-such-folder');
    const error = await loadError({ overrideDir: missing });
    assert.ok(isSvdError(error, 'bad_config'), String(error));
    assert.ok(error.message.includes(missing), error.message);
  });

  test('an override path that is a file is a bad_config', async () => {
    const file = path.join(tmp, 'a-file.md');
    await writeFile(file, 'x');
    const error = await loadError({ overrideDir: file });
    assert.ok(isSvdError(error, 'bad_config'), String(error));
    assert.ok(error.message.includes(file), error.message);
  });

  test('a built-in folder missing a template is an internal error naming the file', async () => {
    const dir = await templateDir(tmp);
    await rm(path.join(dir, 'science', 'factuality.md'));
    const error = await loadError({ builtinDir: dir });
    assert.ok(isSvdError(error, 'internal'), String(error));
    assert.ok(error.message.includes(path.join(dir, 'science', 'factuality.md')), error.message);
  });
});

describe('validation', () => {
  const bad: Array<[string, string, string, RegExp]> = [
    ['unknown placeholder', 'math/generate.md', 'Solve {{question}} in {{style}}', /unknown placeholder \{\{style\}\}/],
    ['misspelled placeholder', 'factuality.md', '{{question}} {{answr}}', /unknown placeholder \{\{answr\}\}/],
    ['missing required question', 'coding/correctness.md', 'Judge {{answer}}', /missing required placeholder \{\{question\}\}/],
    ['missing required answer', 'science/factuality.md', 'Judge {{question}}', /missing required placeholder \{\{answer\}\}/],
    ['compare without inferred question', 'cycle_compare.md', 'Compare {{question}}', /\{\{inferred_question\}\}/],
    ['generate without question', 'math/generate.md', 'Solve it', /\{\{question\}\}/],
    ['cycle_infer with the question', 'math/cycle_infer.md', 'Given {{question}}, infer from {{answer}}', /\{\{question\}\}.*not allowed in cycle_infer/],
    ['cycle_infer with the question, spaced', 'cycle_infer.md', '{{ question }} {{answer}}', /cycle_infer/],
    ['cycle_infer without the answer', 'coding/cycle_infer.md', 'Infer something', /missing required placeholder \{\{answer\}\}/],
    ['answer in generate', 'generate.md', '{{question}} {{answer}}', /not available in \{\{answer\}\}/],
    ['inferred question in correctness', 'math/correctness.md', '{{question}} {{answer}} {{inferred_question}}', /\{\{inferred_question\}\}/],
    ['language outside coding', 'math/generate.md', '{{question}} in {{language}}', /\{\{language\}\}/],
  ];
  for (const [name, file, text, message] of bad) {
    test(name, async () => {
      const dir = await templateDir(tmp, { [file]: text });
      // A global file would lose to the per-domain ones templateDir writes; remove those so it is the one read.
      if (!file.includes('/')) {
        for (const domain of DOMAINS) await rm(path.join(dir, domain, file));
      }
      const error = await loadError({ overrideDir: dir });
      assert.ok(isSvdError(error, 'bad_config'), String(error));
      assert.match(error.message, message);
      assert.ok(error.message.includes(path.join(dir, file)), `names the file: ${error.message}`);
    });
  }

  test('language is allowed in coding templates and defaults to Python', async () => {
    const dir = await templateDir(tmp, { 'coding/generate.md': 'Write {{language}} for {{question}}' });
    const prompts = await PromptSet.load({ overrideDir: dir });
    assert.equal(prompts.render('coding', 'generate', { question: 'q' })[0]?.content, 'Write Python for q');
    assert.equal(prompts.render('coding', 'generate', { question: 'q', language: 'rust' })[0]?.content, 'Write rust for q');
  });

  test('placeholders may carry spaces; unrelated braces stay literal', async () => {
    const dir = await templateDir(tmp, { 'math/generate.md': 'Q: {{ question }} then {x} and {{ 1 }} and {{}}' });
    const prompts = await PromptSet.load({ overrideDir: dir });
    assert.equal(prompts.render('math', 'generate', { question: 'q' })[0]?.content, 'Q: q then {x} and {{ 1 }} and {{}}');
  });

  test('a value the step needs but the caller did not give is an internal error', async () => {
    const prompts = await PromptSet.load();
    assert.throws(() => prompts.render('math', 'correctness', { question: 'q' }), (error: unknown) => isSvdError(error, 'internal'));
  });
});

describe('render', () => {
  test('single pass: a value holding a placeholder or a replacement pattern stays literal', async () => {
    const dir = await templateDir(tmp, { 'math/factuality.md': 'A={{answer}}|Q={{question}}' });
    const prompts = await PromptSet.load({ overrideDir: dir });
    const content = prompts.render('math', 'factuality', { question: 'real question', answer: "{{question}} $& $1 $' {{answer}}" })[0]?.content;
    assert.equal(content, "A={{question}} $& $1 $' {{answer}}|Q=real question");
  });

  test('a BOM and CRLF endings are normalised away', async () => {
    const dir = await templateDir(tmp, { 'math/generate.md': '\uFEFFLine one\r\n{{question}}\r\n' });
    const prompts = await PromptSet.load({ overrideDir: dir });
    assert.equal(prompts.render('math', 'generate', { question: 'q' })[0]?.content, 'Line one\nq');
  });
});

describe('hash', () => {
  test('stable for the same templates, and independent of where they live', async () => {
    const a = await PromptSet.load();
    const b = await PromptSet.load();
    assert.equal(a.hash, b.hash);
    assert.match(a.hash, /^[0-9a-f]{64}$/);
    // The same text in an override folder is the same prompt.
    const copy = await mkdtemp(path.join(tmp, 'copy-'));
    for (const domain of DOMAINS) {
      await mkdir(path.join(copy, domain));
      for (const name of TEMPLATE_NAMES) {
        const text = await readFile(path.join(BUILTIN, domain, `${name}.md`), 'utf8');
        await writeFile(path.join(copy, domain, `${name}.md`), text.replace(/\n/g, '\r\n'));
      }
    }
    assert.equal((await PromptSet.load({ overrideDir: copy })).hash, a.hash);
  });

  test('changes when any one template changes', async () => {
    const base = await templateDir(tmp);
    const baseHash = (await PromptSet.load({ builtinDir: base })).hash;
    const seen = new Set([baseHash]);
    for (const domain of DOMAINS) {
      for (const name of TEMPLATE_NAMES) {
        // One edit that adds text and one that only swaps a character: length alone must not decide.
        for (const text of [`${valid(name)} edited`, `#${valid(name).slice(1)}`]) {
          const edited = await templateDir(tmp, { [`${domain}/${name}.md`]: text });
          const hash = (await PromptSet.load({ builtinDir: edited })).hash;
          assert.ok(!seen.has(hash), `editing ${domain}/${name} left the hash unchanged or equal to another edit`);
          seen.add(hash);
        }
      }
    }
  });

  test('changes when an override replaces a built-in', async () => {
    const builtin = await PromptSet.load();
    const dir = await mkdtemp(path.join(tmp, 'one-'));
    await writeFile(path.join(dir, 'generate.md'), 'Just solve: {{question}}');
    assert.notEqual((await PromptSet.load({ overrideDir: dir })).hash, builtin.hash);
  });

  test('moving text between two templates changes the hash', async () => {
    const one = await templateDir(tmp, { 'math/factuality.md': '{{question}} {{answer}} X', 'math/correctness.md': '{{question}} {{answer}}' });
    const two = await templateDir(tmp, { 'math/factuality.md': '{{question}} {{answer}}', 'math/correctness.md': '{{question}} {{answer}} X' });
    const hashOne = (await PromptSet.load({ builtinDir: one })).hash;
    const hashTwo = (await PromptSet.load({ builtinDir: two })).hash;
    assert.notEqual(hashOne, hashTwo);
  });
});

