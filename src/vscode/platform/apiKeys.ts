// API keys live in the editor's secret storage, one per server origin: never in settings, run files or logs. Each key
// read is made known to the log's redaction before any request could echo it.
import type * as vscode from 'vscode';
import { secrets } from '../../core/base/redact';

const SECRET_PREFIX = 'svd.apiKey:';
/** The Hugging Face token that publishing uses: one for the editor, not per server. */
const HUB_TOKEN = 'svd.hfToken';

/** The secret's name for a server: one key per origin, so `/v1` and `/v1/` share it. Undefined: the embedded engine. */
export function secretName(baseUrl: string | undefined): string | undefined {
  if (!baseUrl) return undefined;
  return SECRET_PREFIX + originOf(baseUrl);
}

/** `https://host:port` of a URL; the text itself when it is no URL. */
export function originOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).origin;
  } catch {
    return baseUrl;
  }
}

export class ApiKeys {
  constructor(private readonly storage: vscode.SecretStorage) {}

  async keyFor(baseUrl: string | undefined): Promise<string | undefined> {
    const name = secretName(baseUrl);
    const key = name ? await this.storage.get(name) : undefined;
    secrets.add(key);
    return key;
  }

  /** False for the embedded engine, which needs no key. */
  async set(baseUrl: string | undefined, key: string): Promise<boolean> {
    const name = secretName(baseUrl);
    if (!name) return false;
    secrets.add(key);
    await this.storage.store(name, key);
    return true;
  }

  async clear(baseUrl: string | undefined): Promise<void> {
    const name = secretName(baseUrl);
    if (name) await this.storage.delete(name);
  }

  async hubToken(): Promise<string | undefined> {
    const token = await this.storage.get(HUB_TOKEN);
    secrets.add(token);
    return token;
  }

  async setHubToken(token: string): Promise<void> {
    secrets.add(token);
    await this.storage.store(HUB_TOKEN, token);
  }
}
