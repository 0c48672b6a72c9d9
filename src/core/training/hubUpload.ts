// Sends a publish folder (publish.ts) to the Hugging Face Hub as a dataset repo, with the Hub's own client
// (@huggingface/hub: repo creation, then one commit; it picks inline or LFS upload per file as the Hub says).
// The token is held in memory for the calls and never written anywhere; errors that might quote it are redacted
// by the caller's sinks (the token is added to redaction where it enters).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRepo, HubApiError, uploadFiles } from '@huggingface/hub';
import { SvdError, describeError } from '../base/errors';
import { checkRepoId } from './publish';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface UploadOptions {
  /** The publish folder and the files in it to send (relative paths, `/`-separated). */
  dir: string;
  files: readonly string[];
  repo: string;
  token: string | undefined;
  private?: boolean;
  hubUrl?: string;
  license?: string;
}

export interface UploadResult {
  /** The dataset's page. */
  url: string;
  /** Whether this call made the repo (false: it existed and got a new commit). */
  created: boolean;
  commit?: string;
}

export async function uploadToHub(options: UploadOptions): Promise<UploadResult> {
  checkRepoId(options.repo);
  if (!options.token) {
    throw new SvdError('auth', 'no Hugging Face token: set HF_TOKEN (or, in the editor, run "SVD: Set Hugging Face Token")');
  }
  const hubUrl = (options.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  const repo = { type: 'dataset' as const, name: options.repo };
  let created = true;
  try {
    await createRepo({
      repo,
      accessToken: options.token,
      hubUrl,
      ...(options.private !== undefined ? { private: options.private } : {}),
      ...(options.license && options.license !== 'unknown' ? { license: options.license } : {}),
    });
  } catch (error) {
    // Publishing again adds a commit to the dataset that is there.
    if (!(error instanceof HubApiError && error.statusCode === 409)) throw hubError(error, hubUrl, 'create the dataset repo');
    created = false;
  }
  const files = options.files.map((file) => ({ path: file, content: new Blob([fs.readFileSync(path.join(options.dir, ...file.split('/')))]) }));
  let commit: string | undefined;
  try {
    const result = await uploadFiles({
      repo,
      accessToken: options.token,
      hubUrl,
      files,
      commitTitle: 'Publish a Self-Verified Distillation run',
    });
    commit = result?.commit.oid;
  } catch (error) {
    throw hubError(error, hubUrl, 'upload the files');
  }
  return { url: `${hubUrl}/datasets/${options.repo}`, created, ...(commit ? { commit } : {}) };
}

function hubError(error: unknown, hubUrl: string, what: string): SvdError {
  if (error instanceof HubApiError) {
    const code = error.statusCode === 401 || error.statusCode === 403 ? 'auth' : error.statusCode >= 500 ? 'unreachable' : 'bad_config';
    return new SvdError(code, `${hubUrl}: could not ${what} (HTTP ${error.statusCode}): ${error.message}`, { cause: error });
  }
  return new SvdError('unreachable', `${hubUrl}: could not ${what}: ${describeError(error)}`, { cause: error });
}
