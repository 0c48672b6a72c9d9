// The Python the training tests run: the pinned venv that venv.sh builds (once per machine) under the test cache.
// Where python3 is missing the tests are skipped with a message; in CI (CI=true) that is a failure instead.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const VENV_SCRIPT = path.resolve(__dirname, 'venv.sh');

export interface TestPython {
  /** The venv's interpreter, when there is one. */
  path?: string;
  /** Why the tests are skipped; undefined when they run. */
  skip?: string;
}

let found: TestPython | undefined;

export function pythonForTests(): TestPython {
  if (found) return found;
  const interpreter = process.env.SVD_PYTHON ?? 'python3';
  const present = spawnSync(interpreter, ['--version'], { encoding: 'utf8' });
  if (present.error || present.status !== 0) {
    const why = `${interpreter} not found: the TRL, datasets and LLaMA-Factory tests need Python 3.10+`;
    if (process.env.CI === 'true') throw new Error(`${why} (CI must run them)`);
    found = { skip: why };
    return found;
  }
  const built = spawnSync('bash', [VENV_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (built.status !== 0) throw new Error(`test/python/venv.sh failed (exit ${built.status})`);
  found = { path: built.stdout.trim().split('\n').pop()! };
  return found;
}
