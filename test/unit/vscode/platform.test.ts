// The editor's command handling under plain Node (the `vscode` stub): what a command resolves with when it works,
// declines or breaks, how errors are shown, the settings as commands read them, Restricted Mode, and API keys.
import '../../stubs/register-vscode';
import assert from 'node:assert/strict';
import path from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { SvdError } from '../../../src/core/base/errors';
import { redactText } from '../../../src/core/base/redact';
import { ApiKeys, originOf, secretName } from '../../../src/vscode/platform/apiKeys';
import { answered, answeredOrEmpty, isDeclined, isFailed, Refusal, refuse, type CommandResult } from '../../../src/vscode/platform/commandResult';
import { registerPlatformCommands } from '../../../src/vscode/platform/commands';
import { commandRunner, createPlatform, type Platform } from '../../../src/vscode/platform/feature';
import { SettingsError } from '../../../src/vscode/platform/settings';
import { commands, stub, Uri, window, workspace } from '../../stubs/vscode';

const ROOT = path.resolve('/work/space');

/** Secret storage in memory. */
function secretStorage(): vscode.SecretStorage & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    get: async (key: string) => values.get(key),
    store: async (key: string, value: string) => void values.set(key, value),
    delete: async (key: string) => void values.delete(key),
    onDidChange: () => ({ dispose: () => undefined }),
  } as unknown as vscode.SecretStorage & { values: Map<string, string> };
}

function extensionContext(secrets = secretStorage()): vscode.ExtensionContext {
  return {
    subscriptions: [],
    extensionPath: '/ext',
    extensionUri: Uri.file('/ext'),
    globalStorageUri: Uri.file('/storage'),
    secrets,
  } as unknown as vscode.ExtensionContext;
}

function logChannel(): vscode.LogOutputChannel & { lines: string[] } {
  return window.createOutputChannel('test') as unknown as vscode.LogOutputChannel & { lines: string[] };
}

function platform(secrets = secretStorage()): Platform & { log: { lines: string[] } } {
  const context = extensionContext(secrets);
  return createPlatform(context, logChannel(), new ApiKeys(context.secrets)) as Platform & { log: { lines: string[] } };
}

async function run<T>(id: string, ...args: unknown[]): Promise<CommandResult<T>> {
  return commands.executeCommand<CommandResult<T>>(id, ...args);
}

beforeEach(() => stub.reset(ROOT));

describe('what a command resolves with', () => {
  const reported: unknown[] = [];
  const runner = (handler: (...args: unknown[]) => unknown) => commandRunner(handler, (error) => reported.push(error));
  beforeEach(() => (reported.length = 0));

  test('its value, when it did its work; its arguments reach it', async () => {
    assert.deepEqual(await runner((a, b) => ({ got: [a, b] }))(1, 'two'), { got: [1, 'two'] });
    assert.equal(await runner(() => undefined)(), undefined);
    assert.deepEqual(reported, []);
  });

  test('a Refusal declines: reported only when it carries an error the command did not report itself', async () => {
    assert.deepEqual(await runner(() => answered(undefined))(), { declined: 'cancelled' });
    assert.deepEqual(reported, []);
    const locked = await runner(() => {
      throw refuse('run_locked', 'Run r is going: stop it first.');
    })();
    assert.deepEqual(locked, { declined: 'refused', code: 'run_locked', message: 'Run r is going: stop it first.' });
    assert.equal(reported.length, 1);
    await runner(() => {
      throw new Refusal('refused', new SvdError('bad_config', 'told already'), { reported: true });
    })();
    assert.equal(reported.length, 1, 'a refusal the command reported itself is not reported again');
  });

  test('settings that cannot be used decline for that reason, reported', async () => {
    const result = await runner(() => {
      throw new SettingsError('invalid_settings', 'Invalid setting svd.votes: too small');
    })();
    assert.ok(isDeclined(result));
    assert.deepEqual(result, { declined: 'invalid_settings', code: 'bad_config', message: 'Invalid setting svd.votes: too small' });
    assert.equal(reported.length, 1);
  });

  test('an error fails with its code; anything else is a crash: internal. Both are reported', async () => {
    const unreachable = await runner(() => {
      throw new SvdError('unreachable', 'the server did not answer');
    })();
    assert.deepEqual(unreachable, { failed: 'unreachable', message: 'the server did not answer' });
    const crash = await runner(() => (undefined as unknown as { x: () => void }).x())();
    assert.ok(isFailed(crash) && !isDeclined(crash));
    assert.equal(crash.failed, 'internal');
    assert.match(crash.message, /undefined/);
    assert.equal(reported.length, 2);
  });

  test('answers: a dismissed prompt declines; an empty one only where an answer is required', () => {
    assert.equal(answered('x'), 'x');
    assert.deepEqual(answered([]), []);
    assert.throws(() => answered(''), (e) => e instanceof Refusal && e.reason === 'cancelled');
    assert.equal(answeredOrEmpty(''), '');
    assert.throws(() => answeredOrEmpty(undefined), (e) => e instanceof Refusal && e.reason === 'cancelled');
  });
});

describe('a command registered by a feature', () => {
  test('reports an error with the buttons its code calls for, and logs it', async () => {
    const p = platform();
    const errors: [string, SvdError | Error][] = [
      ['auth', new SvdError('auth', '401')],
      ['engine', new SvdError('engine', 'the engine crashed')],
      ['bad_config', new SvdError('bad_config', 'bad value')],
      ['unreachable', new SvdError('unreachable', 'no answer')],
      ['unknown_model', new SvdError('unknown_model', 'not served')],
      ['other', new SvdError('not_found', 'no such run')],
    ];
    for (const [id, error] of errors) {
      p.command(`test.${id}`, () => {
        throw error;
      });
      await run(`test.${id}`);
    }
    assert.deepEqual(
      stub.messages.map((m) => [m.severity, m.items]),
      [
        ['error', ['Set API Key']],
        ['error', ['Select Model Endpoint']],
        ['error', ['Open Settings']],
        // A server down or without the model: another endpoint.
        ['error', ['Select Model Endpoint']],
        ['error', ['Select Model Endpoint']],
        ['error', []],
      ],
    );
    // The key's own advice is the editor's (secret storage), not the CLI's environment variables.
    assert.equal(stub.messages[0]!.message, 'The server refused the API key (or none is set for it).');
    assert.ok(p.log.lines.some((line) => line === '[error] the engine crashed'));
  });

  test('without a folder open, one that reads the settings declines as no_workspace', async () => {
    stub.reset();
    const p = platform();
    p.command('test.settings', () => p.settings());
    const result = await run('test.settings');
    assert.ok(isDeclined(result));
    assert.equal(result.declined, 'no_workspace');
    assert.equal(p.runsDir(), undefined);
    assert.deepEqual(stub.messages.map((m) => m.items), [['Open Settings']]);
  });

  test('an invalid setting declines it as invalid_settings, naming the setting; a valid one is read in the workspace', async () => {
    const p = platform();
    p.command('test.settings', () => p.settings().runsDir);
    stub.settings.set('svd.votes', 0);
    const refused = await run('test.settings');
    assert.ok(isDeclined(refused));
    assert.equal(refused.declined, 'invalid_settings');
    assert.match(refused.message ?? '', /svd\.votes/);
    assert.equal(p.runsDir(), undefined, 'no runs folder while a setting is invalid');

    stub.settings.set('svd.votes', 5);
    stub.settings.set('svd.runsFolder', 'records/runs');
    assert.equal(await run('test.settings'), path.join(ROOT, 'records/runs'));
    assert.equal(p.runsDir(), path.join(ROOT, 'records/runs'));
    assert.equal(p.cliPath, path.join('/ext', 'dist', 'cli.js'));
  });

  test('in Restricted Mode, one that needs trust declines as restricted, with a button to manage trust', async () => {
    const p = platform();
    let ran = false;
    p.command('test.trusted', () => {
      p.requireTrust('Running the method');
      ran = true;
    });
    workspace.isTrusted = false;
    assert.deepEqual(await run('test.trusted'), { declined: 'restricted' });
    assert.equal(ran, false);
    assert.deepEqual(stub.messages.map((m) => m.items), [['Manage Workspace Trust']]);
    assert.match(stub.messages[0]!.message, /^Running the method is disabled in Restricted Mode/);
    workspace.isTrusted = true;
    assert.equal(await run('test.trusted'), undefined);
    assert.equal(ran, true);
  });
});

describe('API keys', () => {
  test('one secret per server origin; text that is no URL names its own', () => {
    assert.equal(secretName('http://localhost:8000/v1'), secretName('http://localhost:8000/v2/'));
    assert.notEqual(secretName('http://localhost:8000/v1'), secretName('http://localhost:8001/v1'));
    assert.equal(secretName(undefined), undefined);
    assert.equal(secretName(''), undefined);
    assert.equal(originOf('not a url'), 'not a url');
    assert.equal(originOf('https://api.example.com/v1/'), 'https://api.example.com');
  });

  test('svd.setApiKey stores the key for the endpoint\'s origin, known to redaction; svd.clearApiKey removes it', async () => {
    const secrets = secretStorage();
    const p = platform(secrets);
    registerPlatformCommands(p);
    stub.settings.set('svd.endpoint.baseUrl', 'http://localhost:8000/v1');
    stub.settings.set('svd.endpoint.model', 'm');
    const key = 'sk-test-0123456789abcdef';
    assert.equal(await run('svd.setApiKey', key), true);
    assert.deepEqual([...secrets.values], [[secretName('http://localhost:8000/v1'), key]]);
    assert.equal(await p.apiKeyFor('http://localhost:8000/other'), key);
    assert.ok(!redactText(`Bearer ${key}`).includes(key), 'the key is redacted from logs');
    assert.ok(p.log.lines.some((line) => line === '[info] API key set for http://localhost:8000'));

    // Asked for when not given: closing the box declines.
    stub.answer(undefined);
    assert.deepEqual(await run('svd.setApiKey'), { declined: 'cancelled' });

    assert.equal(await run('svd.clearApiKey'), true);
    assert.equal(secrets.values.size, 0);
  });

  test('svd.setApiKey names another server when given one; the embedded engine needs none', async () => {
    const secrets = secretStorage();
    const p = platform(secrets);
    registerPlatformCommands(p);
    assert.deepEqual(await run('svd.setApiKey', 'sk-test-0123456789'), { declined: 'nothing_to_do' });
    assert.match(stub.messages.at(-1)!.message, /embedded engine needs no API key/);
    assert.equal(await run('svd.setApiKey', 'sk-ft-0123456789', 'https://ft.example.com/v1'), true);
    assert.deepEqual([...secrets.values.keys()], [secretName('https://ft.example.com')]);
  });
});
