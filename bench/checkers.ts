// Answer-checker benchmark: (1) the math checker's agreement with test/fixtures/check/math-rewrites.jsonl (MATH-500
// gold answers against equivalent and non-equivalent rewritings) and with test/fixtures/check/math-graders.jsonl
// (pairs from other graders' tests and written to their classes; its agreement and false "equivalent" rate are the
// final line's math figures), with the time of one check; (2) how many HumanEval and MBPP canonical solutions pass
// their tests in the sandbox (all should), and the LiveCodeBench sample's canonical solutions pass and its wrong
// ones fail; (3) code runs per second on the HumanEval canonical solutions with 2 workers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CodeRunner } from '../src/core/check/code';
import { checkMath } from '../src/core/check/math';
import { checkTestCases } from '../src/core/check/testcases';
import { testCasesOf } from '../src/core/method/seedTestCases';
import { readPairs, scoreMathTable } from './mathTable';
import { describeIsolation, detectIsolation } from '../src/core/check/sandbox';

const FIXTURES = path.resolve(__dirname, '../test/fixtures');

function jsonl<T>(file: string): T[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

interface Rewrite {
  gold: string;
  answer: string;
  equivalent: boolean;
  note: string;
}

interface CodingRow {
  id: string;
  question: string;
  entry_point: string;
  tests: string;
  canonical_solution: string;
}

const fence = (code: string) => `\`\`\`python\n${code}\n\`\`\``;

async function main(): Promise<void> {
  const rewrites = jsonl<Rewrite>('check/math-rewrites.jsonl');
  const mathStarted = performance.now();
  const disagreements = rewrites.filter((row) => checkMath(`\\boxed{${row.answer}}`, row.gold).correct !== row.equivalent);
  const mathMs = performance.now() - mathStarted;
  const agree = (rewrites.length - disagreements.length) / rewrites.length;
  console.log(`math: ${rewrites.length - disagreements.length}/${rewrites.length} pairs agree (${agree.toFixed(3)}; ${rewrites.filter((r) => r.equivalent).length} equivalent), ${mathMs.toFixed(0)} ms`);
  for (const row of disagreements) console.log(`  disagrees: ${row.gold} vs ${row.answer} (${row.note}), expected ${row.equivalent ? 'equivalent' : 'different'}`);
  const graders = scoreMathTable(readPairs(path.join(FIXTURES, 'check/math-graders.jsonl')));
  const mathAgree = graders.agree / graders.pairs;
  const mathFalseEquivalent = graders.falseEquivalent / graders.different;
  console.log(
    `math (graders' table): ${graders.agree}/${graders.pairs} pairs agree (${graders.pairs - graders.different} equivalent), ${graders.falseEquivalent}/${graders.different} different pairs said equivalent; per check ${graders.meanMs.toFixed(2)} ms mean, ${graders.p99Ms.toFixed(2)} ms p99`,
  );
  for (const row of graders.disagreements) console.log(`  disagrees [${row.class}]: ${row.gold} vs ${row.text ?? row.answer} (${row.note}), expected ${row.equivalent ? 'equivalent' : 'different'}`);

  console.log(`sandbox isolation: ${describeIsolation(await detectIsolation())}`);
  const runner = new CodeRunner({ workers: 2 });
  try {
    const humaneval = jsonl<CodingRow>('data/humaneval.jsonl');
    const heStarted = performance.now();
    const heResults = await Promise.all(
      humaneval.map((row) => runner.check(fence(row.canonical_solution), { tests: row.tests, entryPoint: row.entry_point, question: row.question })),
    );
    const heSeconds = (performance.now() - heStarted) / 1000;
    const hePassed = heResults.filter((r) => r.correct).length;
    const runsPerSecond = humaneval.length / heSeconds;
    console.log(`humaneval: ${hePassed}/${humaneval.length} canonical solutions pass; ${humaneval.length} runs in ${heSeconds.toFixed(2)} s with 2 workers = ${runsPerSecond.toFixed(1)} runs/s`);
    heResults.forEach((r, i) => r.correct || console.log(`  ${humaneval[i]!.id}: ${r.outcome} ${r.detail}`));

    const mbpp = jsonl<CodingRow>('data/mbpp_test.jsonl');
    const mbStarted = performance.now();
    const mbResults = await Promise.all(mbpp.map((row) => runner.check(fence(row.canonical_solution), { tests: row.tests, entryPoint: row.entry_point })));
    const mbSeconds = (performance.now() - mbStarted) / 1000;
    const mbPassed = mbResults.filter((r) => r.correct).length;
    console.log(`mbpp: ${mbPassed}/${mbpp.length} canonical solutions pass; ${mbpp.length} runs in ${mbSeconds.toFixed(2)} s`);
    mbResults.forEach((r, i) => r.correct || console.log(`  ${mbpp[i]!.id}: ${r.outcome} ${r.detail}`));

    // LiveCodeBench: canonical solutions (all should pass) and each row's wrong solution (all should fail).
    const lcb = jsonl<Record<string, unknown> & { id: string; canonical_solution: string; meta: { wrong_solution: string } }>('data/livecodebench_sample.jsonl');
    const lcbStarted = performance.now();
    const lcbRun = (code: string, row: (typeof lcb)[number]) => {
      const gold = testCasesOf(row);
      if (gold === undefined || 'message' in gold) throw new Error(`${row.id}: no test cases`);
      return checkTestCases(runner, fence(code), gold);
    };
    const [lcbRight, lcbWrong] = await Promise.all([
      Promise.all(lcb.map((row) => lcbRun(row.canonical_solution, row))),
      Promise.all(lcb.map((row) => lcbRun(row.meta.wrong_solution, row))),
    ]);
    const lcbSeconds = (performance.now() - lcbStarted) / 1000;
    const lcbPassed = lcbRight.filter((r) => r.correct).length;
    const wrongFailed = lcbWrong.filter((r) => !r.correct && r.outcome !== 'unchecked').length;
    console.log(`lcb: ${lcbPassed}/${lcb.length} canonical solutions pass; ${wrongFailed}/${lcb.length} wrong solutions fail; ${lcb.length * 2} rows in ${lcbSeconds.toFixed(2)} s = ${((lcb.length * 2) / lcbSeconds).toFixed(1)} rows/s`);
    lcbRight.forEach((r, i) => r.correct || console.log(`  ${lcb[i]!.id}: ${r.outcome} ${r.detail}`));
    lcbWrong.forEach((r, i) => r.correct && console.log(`  ${lcb[i]!.id}: the wrong solution passes`));

    console.log(
      `checkers: math_agree=${mathAgree.toFixed(3)} math_false_equiv=${mathFalseEquivalent.toFixed(3)} lcb_pass=${(lcbPassed / lcb.length).toFixed(3)} humaneval_pass=${(hePassed / humaneval.length).toFixed(3)} mbpp_pass=${(mbPassed / mbpp.length).toFixed(3)} code_runs_per_s=${runsPerSecond.toFixed(1)}`,
    );
  } finally {
    await runner.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
