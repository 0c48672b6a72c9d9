// The webview's side of the channel: the only place that touches acquireVsCodeApi. Messages out are checked
// against the catalogue before they leave; messages in are checked before anything reads them.
import { HostMessage, WebviewMessage, type HostMessage as HostMessageT } from '../../src/protocol/review';
import { readUiState, type UiState } from './uiState';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export interface HostChannel {
  post(message: WebviewMessage): void;
  loadState(): UiState;
  saveState(state: UiState): void;
  onMessage(handler: (message: HostMessageT) => void): void;
}

export function connectHost(): HostChannel {
  const api = acquireVsCodeApi();
  return {
    post(message) {
      api.postMessage(WebviewMessage.parse(message));
    },
    loadState: () => readUiState(api.getState()),
    saveState: (state) => api.setState(state),
    onMessage(handler) {
      window.addEventListener('message', (event: MessageEvent) => {
        const parsed = HostMessage.safeParse(event.data);
        if (!parsed.success) {
          console.warn('review: dropped a message that is not in the catalogue', parsed.error.issues.slice(0, 3));
          return;
        }
        handler(parsed.data);
      });
    },
  };
}
