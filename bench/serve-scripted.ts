// Runs the scripted server in its own process, so a benchmark measures the engine's CPU and not the server's.
// argv: a JSON file { latencyMs, seeds: SeedScript[] }. Prints the base URL on stdout; exits when stdin closes.
import { readFileSync } from 'node:fs';
import { methodHandler, startScriptedServer, type SeedScript } from '../test/fixtures/scripted-server';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { latencyMs: number; seeds: SeedScript[] };
void (async () => {
  const server = await startScriptedServer({ latencyMs: spec.latencyMs, handler: methodHandler(spec.seeds), models: ['bench'] });
  process.stdout.write(`${server.url}\n`);
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
  process.stdin.resume();
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
  // The parent asks for the count of chat requests seen by sending a line.
  process.stdin.on('data', () => process.stdout.write(`${JSON.stringify({ requests: server.countBy() })}\n`));
})();
