// What a model server has shown it cannot do, learnt from its answers. Kept per server (its base URL), not as one
// switch, so that a command talking to several servers keeps each one's own; one instance is shared by the clients
// of a command (a sweep's cells and an evaluation's baseline ask the same servers).
export class ServerTraits {
  private readonly singleSample = new Set<string>();

  /** Whether requests to this server may still ask for `n > 1` (true until it refused one). */
  takesBatches(baseURL: string): boolean {
    return !this.singleSample.has(serverKey(baseURL));
  }

  /** Records that the server refused `n > 1`; true only the first time, so that it is said once. */
  refusedBatches(baseURL: string): boolean {
    const key = serverKey(baseURL);
    if (this.singleSample.has(key)) return false;
    this.singleSample.add(key);
    return true;
  }
}

/** One server, however its URL is written (a trailing slash, the scheme's and host's case). */
function serverKey(baseURL: string): string {
  try {
    const url = new URL(baseURL);
    url.username = '';
    url.password = '';
    return url.href.replace(/\/+$/, '');
  } catch {
    return baseURL.replace(/\/+$/, '');
  }
}
