// Entry point that VS Code loads inside the extension host (extensionTestsPath): the exported run() is the
// contract of @vscode/test-electron, so the same compiled suites also run under @vscode/test-cli on a
// desktop. It runs every `*.test.js` below this file's folder (out/test/vscode/ once compiled).
//
// Output goes through console.log, which the extension host forwards to the workbench and the workbench to
// the test driver (test/vscode/run-exthost.mjs). The spec reporter prints the human-readable run; one
// final line, RESULT_MARKER + JSON, carries the counts the driver sums; START_MARKER opens the run.
//
// Env (inherited from the VS Code server process): VSCODE_TEST_GREP (mocha grep), VSCODE_TEST_TIMEOUT_MS.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export const START_MARKER = '@@vscode-test-start';
export const RESULT_MARKER = '@@vscode-test-result ';

export interface HostTestResult {
  passed: number;
  failed: number;
  pending: number;
  durationMs: number;
  failures: { title: string; error: string }[];
}

class HostReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const failures: HostTestResult['failures'] = [];
    const { EVENT_TEST_FAIL, EVENT_RUN_END } = Mocha.Runner.constants;
    runner.on(EVENT_TEST_FAIL, (test, err: unknown) => {
      failures.push({ title: test.fullTitle(), error: err instanceof Error ? err.message : String(err) });
    });
    // Registered after the spec reporter's own handler, so this line comes after "N passing / N failing".
    runner.once(EVENT_RUN_END, () => {
      const stats = runner.stats;
      const result: HostTestResult = {
        passed: stats?.passes ?? 0,
        failed: stats?.failures ?? failures.length,
        pending: stats?.pending ?? 0,
        durationMs: stats?.duration ?? 0,
        failures,
      };
      console.log(RESULT_MARKER + JSON.stringify(result));
    });
  }
}

function findTests(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.js') && !f.split(path.sep).includes('node_modules'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    color: false,
    timeout: Number(process.env.VSCODE_TEST_TIMEOUT_MS ?? 30_000),
    reporter: HostReporter,
  });
  if (process.env.VSCODE_TEST_GREP) mocha.grep(process.env.VSCODE_TEST_GREP);
  const files = findTests(__dirname);
  // Lets the driver tell this run's output from the workbench's own log lines, which share the channel.
  console.log(`${START_MARKER} ${JSON.stringify({ files: files.length, node: process.version })}`);
  for (const f of files) mocha.addFile(f);
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => {
        if (failures > 0) reject(new Error(`${failures} test(s) failed`));
        else if (files.length === 0) reject(new Error(`no *.test.js files below ${__dirname}`));
        else resolve();
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
