// The scripted OpenAI-compatible server for the VS Code tests, in its own process (run-project.mjs starts it with
// `node --import tsx` before the VS Code server and stops it at the end).
//
//   node --import tsx test/vscode/suite/serve-scripted.ts <spec.json>
//
// spec: { latencyMs, model, apiKey, seedFiles: [file.jsonl, ...] }. Each seed row may carry `script` (the
// SeedScript fields besides the question: answers, cycle, factuality, correctness) that says how the model answers
// it. Two servers share one handler: `url` answers anyone, `strictUrl` only `Authorization: Bearer <apiKey>`.
// Prints one JSON line { url, strictUrl, pid } on stdout; a line on stdin prints the request counts
// { requests, strictRequests, authorized }; exits when stdin closes or on SIGTERM.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { methodHandler, startScriptedServer, type SeedScript } from '../../fixtures/scripted-server';

interface Spec {
  latencyMs: number;
  model: string;
  apiKey: string;
  seedFiles: string[];
}

interface SeedRow {
  question: string;
  script?: Omit<SeedScript, 'question'>;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Spec;
const scripts: SeedScript[] = [];
for (const file of spec.seedFiles) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as SeedRow;
    scripts.push({ ...(row.script ?? {}), question: row.question });
  }
}

void (async () => {
  const open = await startScriptedServer({ latencyMs: spec.latencyMs, models: [spec.model], handler: methodHandler(scripts) });
  const strict = await startScriptedServer({
    latencyMs: spec.latencyMs,
    models: [spec.model],
    apiKey: spec.apiKey,
    handler: methodHandler(scripts),
  });
  process.stdout.write(`${JSON.stringify({ url: open.url, strictUrl: strict.url, pid: process.pid })}\n`);
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    void Promise.all([open.close(), strict.close()]).finally(() => process.exit(0));
  };
  createInterface({ input: process.stdin })
    .on('line', () => {
      const authorized = strict.requests.filter((r) => r.status === 200).length;
      process.stdout.write(`${JSON.stringify({ requests: open.countBy(), strictRequests: strict.countBy(), authorized })}\n`);
    })
    .on('close', close);
  process.on('SIGTERM', close);
})();
