// The model server a run or a sweep talks to: the one --base-url names (or several: --base-url again, --endpoints
// FILE), else the embedded engine, started here (and its default model downloaded on first use) and stopped when the
// command ends.
import type { Command } from 'commander';
import { SvdError, advisedError } from '../core/base/errors';
import { apiKeyFromEnv } from '../core/base/redact';
import type { Endpoint } from '../core/method/pipeline';
import { endpointSpecs, readEndpointsFile, runModelOf, type EndpointEntry } from '../core/method/endpointsFile';
import type { RunTarget } from '../core/method/runPlan';
import type { DownloadEvent, EngineEvent } from '../protocol/cliEvents';
import { embeddedModelName, ensureModel } from '../engine/download';
import { startEngine } from '../engine/host';
import { describeBackend, type GpuChoice } from '../engine/protocol';
import type { EventStream } from './events';
import type { Io } from './io';
import { collect } from './options';
import { DownloadBar } from './progress';

export interface EndpointFlags {
  /** One server, or several when --base-url is given more than once. */
  baseUrl?: string | string[];
  /** A file of servers (JSON array or JSON lines: url, model, weight, maxConcurrency, apiKeyEnv). */
  endpoints?: string;
  model?: string;
  modelPath?: string;
  threads?: number;
  parallel?: number;
  context?: number;
  gpu?: GpuChoice;
}

/** `--base-url` (again for each replica) and `--endpoints FILE`: the servers of `svd run`, `svd sweep` and `svd eval`. */
export function serverOptions(command: Command, baseUrlHelp = 'OpenAI-compatible server, e.g. http://localhost:8000/v1; again for each replica (default: the embedded engine)'): void {
  command
    .option('--base-url <url>', baseUrlHelp, collect)
    .option('--endpoints <file>', 'servers to spread the work over: a JSON array or JSON lines of {url, model, weight, maxConcurrency, apiKeyEnv}');
}

export interface ResolvedEndpoint {
  endpoint: Endpoint;
  /** Set when the embedded engine died under the run: the reason to report instead of a plain stop. */
  failure(): SvdError | undefined;
  dispose(): Promise<void>;
}

export interface EndpointOptions {
  /** No download bar on stderr (machine-readable output was asked for). */
  quiet?: boolean;
  /** Where the download and the engine's start are reported as events. */
  events: Pick<EventStream<DownloadEvent | EngineEvent>, 'emit'>;
  /** Called when the embedded engine dies under the command. */
  onEngineDeath: () => void;
  /** Stops the default model's download (it resumes next time). */
  signal?: AbortSignal;
}

/**
 * The model the flags name and where it is served, known before anything starts (no download, no engine, no
 * request): the embedded engine serves a model under its file's name.
 */
export function endpointTarget(flags: EndpointFlags): RunTarget {
  const servers = serverEntries(flags);
  if (servers) {
    const model = servers.fromFile
      ? runModelOf(servers.entries, flags.model, '--endpoints')
      : flags.model;
    if (!model) throw new SvdError('bad_config', '--model: required with --base-url (list them with `svd models --base-url URL`)');
    const urls = servers.entries.map((e) => e.url);
    return { model, engine: 'server', baseURL: urls[0]!, ...(urls.length > 1 ? { endpoints: urls } : {}) };
  }
  return { model: flags.model ?? embeddedModelName(flags.modelPath), engine: 'embedded' };
}

/** The servers the flags name: each --base-url, then the entries of --endpoints; undefined for none. */
export function serverEntries(flags: Pick<EndpointFlags, 'baseUrl' | 'endpoints'>): { entries: EndpointEntry[]; fromFile: boolean } | undefined {
  const urls = flags.baseUrl === undefined ? [] : Array.isArray(flags.baseUrl) ? flags.baseUrl : [flags.baseUrl];
  const entries: EndpointEntry[] = urls.map((url) => ({ url, weight: 1 }));
  if (flags.endpoints !== undefined) entries.push(...readEndpointsFile(flags.endpoints));
  return entries.length === 0 ? undefined : { entries, fromFile: flags.endpoints !== undefined };
}

/**
 * `model` served by these servers (a pool when there are several): each entry's key from the variable it names, else
 * the environment's default key. `file`: the --endpoints file they came from, for errors.
 */
export function serverEndpoint(entries: readonly EndpointEntry[], model: string, file?: string): Endpoint {
  const replicas = endpointSpecs(entries, { model, apiKey: apiKeyFromEnv() }, process.env, file ?? '--base-url');
  const first = replicas[0]!;
  return { baseURL: first.url, model, apiKey: first.apiKey, engine: 'server', ...(replicas.length > 1 ? { replicas } : {}) };
}

/** The servers named by --base-url or --endpoints, else the embedded engine on --model-path or the default model. */
export async function resolveEndpoint(flags: EndpointFlags, io: Io, options: EndpointOptions): Promise<ResolvedEndpoint> {
  const servers = serverEntries(flags);
  if (servers) {
    const target = endpointTarget(flags);
    return { endpoint: serverEndpoint(servers.entries, target.model, flags.endpoints), failure: () => undefined, dispose: async () => {} };
  }
  let modelPath = flags.modelPath;
  if (!modelPath) {
    const bar = new DownloadBar(io.isTTY && !options.quiet, (text) => process.stderr.write(text));
    modelPath = await ensureModel({
      signal: options.signal,
      onProgress: (p) => {
        options.events.emit({ type: 'download', ...p });
        bar.update(p);
      },
    });
    bar.done();
  }
  io.err(`starting the embedded engine on ${modelPath}`);
  const engine = await startEngine({
    modelPath,
    threads: flags.threads,
    parallel: flags.parallel,
    contextSize: flags.context,
    gpu: flags.gpu,
    log: (line) => {
      if (process.env.SVD_DEBUG) io.err(`engine: ${line}`);
    },
  });
  const backend = describeBackend(engine.backend);
  io.err(`embedded engine ready: model ${engine.model}, pid ${engine.pid}, ${backend}`);
  if (engine.backend.fallback) io.err(`note: the embedded engine runs on the CPU: ${engine.backend.fallback}`);
  options.events.emit({
    type: 'engine',
    model: engine.model,
    pid: engine.pid,
    backend,
    ...(engine.backend.fallback ? { fallback: engine.backend.fallback } : {}),
  });
  let failure: SvdError | undefined;
  const exit = engine.onExit((info) => {
    if (info.expected) return;
    failure = advisedError('engine', `The embedded engine stopped unexpectedly (${info.signal ?? `exit code ${info.code}`}); the run's records are intact:`, {
      cli: 'run the same command again to resume.',
      editor: 'resume the run (SVD: Resume Run, or the Runs view).',
    });
    options.onEngineDeath();
  });
  return {
    endpoint: { baseURL: engine.baseURL, model: flags.model ?? engine.model, apiKey: engine.apiKey, engine: 'embedded' },
    failure: () => failure,
    dispose: async () => {
      exit.dispose();
      await engine.stop();
    },
  };
}

/**
 * The servers of each model of an evaluation. With one model every server named serves it (as in `svd run`). With
 * several and no --endpoints, `--base-url` is given once for all of them or once per `--model`, which pairs them (a
 * trained model beside its base). With --endpoints, a model that entries name is served by those entries, and every
 * other model by the servers that name no model (each --base-url among them).
 */
export function modelEndpoints(flags: Pick<EndpointFlags, 'baseUrl' | 'endpoints'>, models: readonly string[]): Endpoint[] {
  const servers = serverEntries(flags);
  if (!servers) throw new SvdError('bad_config', '--base-url or --endpoints: an evaluation asks a model server');
  const urls = flags.baseUrl === undefined ? [] : Array.isArray(flags.baseUrl) ? flags.baseUrl : [flags.baseUrl];
  if (models.length > 1 && urls.length > 1 && flags.endpoints === undefined) {
    if (urls.length !== models.length) {
      throw new SvdError('bad_config', `--base-url: give one server for every model, or one per --model (${models.length}); list the replicas of several models in --endpoints FILE`);
    }
    return models.map((model, i) => serverEndpoint([{ url: urls[i]!, weight: 1 }], model));
  }
  return models.map((model) => {
    const named = servers.entries.filter((entry) => entry.model === model);
    const own = models.length === 1 ? servers.entries : named.length > 0 ? named : servers.entries.filter((entry) => entry.model === undefined);
    if (own.length === 0) throw new SvdError('bad_config', `--endpoints: no server for model "${model}" (an entry serves the model it names; one that names none serves the models no entry names)`);
    return serverEndpoint(own, model, flags.endpoints);
  });
}

