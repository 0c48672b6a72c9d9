// `svd models --base-url URL`: the models a server serves, to pick one for --model.
import { ModelClient } from '../core/method/model';
import { apiKeyFromEnv, withoutCredentials } from '../core/base/redact';
import type { Io } from './io';
import type { RegisterCommand } from './options';

interface ModelsFlags {
  baseUrl: string;
  json?: boolean;
}

export const registerModelsCommand: RegisterCommand = (program, io, setCode) => {
  program
    .command('models')
    .description('list the models a server serves')
    .requiredOption('--base-url <url>', 'OpenAI-compatible server')
    .option('--json', 'machine-readable output')
    .action(async (flags: ModelsFlags) => setCode(await commandModels(flags, io)));
};

async function commandModels(flags: ModelsFlags, io: Io): Promise<number> {
  const client = new ModelClient({
    baseURL: flags.baseUrl,
    model: '',
    apiKey: apiKeyFromEnv(),
    concurrency: 1,
    timeoutMs: 30_000,
    maxRetries: 2,
    batchSamples: false,
  });
  const models = await client.listModels();
  if (flags.json) io.out(JSON.stringify(models));
  else if (models.length === 0) io.out(`${withoutCredentials(flags.baseUrl)} serves no model`);
  else for (const model of models) io.out(model);
  return 0;
}
