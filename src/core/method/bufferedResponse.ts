// A successful JSON answer as the openai client reads it, without a web Response: the body is already in memory,
// so it is parsed straight from the buffer. It has what a Response offers a reader (status, headers, text, json,
// arrayBuffer, bytes, blob, clone; `body` as a stream on demand), so code written for fetch's Response reads it alike.

/** Whether the raw header list says the body is JSON (application/json or any +json type). */
export function isJson(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'content-type') continue;
    const media = rawHeaders[i + 1]!.split(';')[0]!.trim().toLowerCase();
    return media === 'application/json' || media.endsWith('+json');
  }
  return false;
}

/** Read-only response headers as fetch's Headers presents them: lower-case names, repeated values joined. */
export class ResponseHeaders {
  private readonly byName = new Map<string, string>();

  constructor(rawHeaders: readonly string[]) {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toLowerCase();
      const value = rawHeaders[i + 1]!;
      const before = this.byName.get(name);
      this.byName.set(name, before === undefined ? value : `${before}, ${value}`);
    }
  }

  get(name: string): string | null {
    return this.byName.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** Used by the transport only, before the response is handed out. */
  delete(name: string): void {
    this.byName.delete(name.toLowerCase());
  }

  /** Sorted by name, as Headers iterates. */
  *entries(): IterableIterator<[string, string]> {
    yield* [...this.byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: string, name: string, headers: ResponseHeaders) => void): void {
    for (const [name, value] of this.entries()) callback(value, name, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

export class BufferedResponse {
  readonly type = 'basic';
  readonly redirected = false;
  readonly url = '';
  private used = false;

  constructor(
    private readonly payload: Buffer,
    readonly status: number,
    readonly statusText: string,
    readonly headers: ResponseHeaders,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  /** The body as a web stream, for a reader that wants one; reading it uses the body up, as with fetch. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.used) return null;
    this.used = true;
    return new Response(this.payload).body;
  }

  async text(): Promise<string> {
    return this.take().toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.take().toString('utf8')) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(this.take());
  }

  async blob(): Promise<Blob> {
    return new Blob([this.take()], { type: this.headers.get('content-type') ?? '' });
  }

  clone(): BufferedResponse {
    if (this.used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(this.payload, this.status, this.statusText, this.headers);
  }

  private take(): Buffer {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.used = true;
    return this.payload;
  }
}
