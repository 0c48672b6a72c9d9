// A stand-in for the `vscode` module, so that editor code runs under plain Node: register-vscode.ts maps
// `import * as vscode from 'vscode'` to this file. It holds what src/vscode touches outside a real window: values
// (Uri, TreeItem, ThemeIcon, MarkdownString, EventEmitter, ...) that behave as VS Code's do, and a scripted UI
// (`stub`): messages are recorded, prompts are answered from a queue the test fills (an empty queue answers as a
// user who closes the prompt), settings and workspace trust are set by the test. Only what the editor code uses is
// here; a missing piece fails loudly as `undefined is not a function`.

// ---- values --------------------------------------------------------------------------------------------------------

export class Disposable {
  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((d) => d.dispose()));
  }

  constructor(private readonly callOnDispose: () => unknown) {}

  dispose(): void {
    this.callOnDispose();
  }
}

type Listener<T> = (event: T) => unknown;

export class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  readonly event = (listener: Listener<T>, thisArgs?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = (event) => listener.call(thisArgs, event);
    this.listeners.add(bound);
    const disposable = new Disposable(() => this.listeners.delete(bound));
    disposables?.push(disposable);
    return disposable;
  };

  fire(event: T): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  dispose(): void {
    this.listeners.clear();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}

  static file(fsPath: string): Uri {
    return new Uri('file', fsPath);
  }

  /** Not a file: an unsaved document's Uri, for tests of the seed-file rule. */
  static untitled(name: string): Uri {
    return new Uri('untitled', name);
  }

  static joinPath(base: Uri, ...segments: string[]): Uri {
    return new Uri(base.scheme, [base.fsPath, ...segments].join('/'));
  }

  get path(): string {
    return this.fsPath;
  }

  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class MarkdownString {
  isTrusted?: boolean;
  supportHtml?: boolean;
  supportThemeIcons?: boolean;
  constructor(public value = '') {}
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: string | MarkdownString;
  iconPath?: ThemeIcon;
  contextValue?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    public label: string,
    public collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export class Range {
  constructor(
    readonly startLine: number,
    readonly startCharacter: number,
    readonly endLine: number,
    readonly endCharacter: number,
  ) {}
}

export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; command: string; tooltip?: string; arguments?: unknown[] },
  ) {}
}

/** A document as the editor code reads one: its Uri and its text, line by line (`range` cuts at whole lines). */
export function textDocument(uri: Uri, text: string): { uri: Uri; lineCount: number; getText(range?: Range): string } {
  const lines = text.split('\n');
  return {
    uri,
    lineCount: lines.length,
    getText: (range) => (range === undefined ? text : lines.slice(range.startLine, range.endLine).join('\n') + (range.endLine > range.startLine ? '\n' : '')),
  };
}

export class RelativePattern {
  constructor(
    readonly base: Uri,
    readonly pattern: string,
  ) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}

export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
}

// ---- the scripted UI -----------------------------------------------------------------------------------------------

export interface ShownMessage {
  severity: 'error' | 'warning' | 'info';
  message: string;
  /** The buttons it offered. */
  items: string[];
  modal: boolean;
}

export interface Prompt {
  kind: 'quickPick' | 'inputBox' | 'modal' | 'openDialog' | 'saveDialog';
  /** The quick pick's items, the modal's message, the dialog's options. */
  shown: unknown;
  options?: unknown;
}

/** An answer, or a function of what was shown that returns one (to pick among the items, say). */
type Answer = unknown | ((shown: unknown) => unknown);

export interface StubStatusBarItem {
  id: string;
  text: string;
  tooltip?: string;
  name?: string;
  command?: string;
  visible: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export interface StubWatcher {
  pattern: RelativePattern;
  disposed: boolean;
}

const answerMark = Symbol('answer is a function');

/** What the test controls and what it reads back. */
export const stub = {
  messages: [] as ShownMessage[],
  prompts: [] as Prompt[],
  answers: [] as Answer[],
  /** `svd.<key>` values, as the workspace's settings say them. */
  settings: new Map<string, unknown>(),
  statusBarItems: [] as StubStatusBarItem[],
  watchers: [] as StubWatcher[],
  /** Commands run that are not registered here (the workbench's own): id and arguments. */
  executed: [] as { id: string; args: unknown[] }[],
  clipboard: '',
  /** Files shown in an editor. */
  opened: [] as string[],
  /** Answers prompts in order; a function answer is called with what the prompt showed. */
  answer(...answers: Answer[]): void {
    stub.answers.push(...answers.map((a) => (typeof a === 'function' ? { [answerMark]: a } : a)));
  },
  /** A fresh window: no messages, prompts, answers, settings or commands; trusted, with `root` open (or no folder). */
  reset(root?: string): void {
    stub.messages.length = 0;
    stub.prompts.length = 0;
    stub.answers.length = 0;
    stub.settings.clear();
    stub.statusBarItems.length = 0;
    stub.watchers.length = 0;
    stub.executed.length = 0;
    stub.clipboard = '';
    stub.opened.length = 0;
    registry.clear();
    workspace.isTrusted = true;
    workspace.workspaceFolders = root === undefined ? undefined : [{ uri: Uri.file(root), name: 'workspace', index: 0 }];
    window.activeTextEditor = undefined;
  },
};

function next(kind: Prompt['kind'], shown: unknown, options?: unknown): unknown {
  stub.prompts.push({ kind, shown, ...(options === undefined ? {} : { options }) });
  const answer = stub.answers.shift();
  if (answer && typeof answer === 'object' && answerMark in answer) return (answer[answerMark] as (shown: unknown) => unknown)(shown);
  return answer;
}

function message(severity: ShownMessage['severity'], text: string, rest: unknown[]): Promise<unknown> {
  const [first] = rest;
  const modal = typeof first === 'object' && first !== null && (first as { modal?: boolean }).modal === true;
  const items = rest.filter((item): item is string => typeof item === 'string');
  stub.messages.push({ severity, message: text, items, modal });
  // A notification's buttons are not clicked; a modal question is answered from the queue.
  return Promise.resolve(modal ? next('modal', text, first) : undefined);
}

function logChannel(name: string) {
  const lines: string[] = [];
  const add = (level: string) => (text: unknown) => lines.push(`[${level}] ${String(text)}`);
  return { name, lines, trace: add('trace'), debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error'), appendLine: add('line'), show: () => undefined, dispose: () => undefined };
}

export const window = {
  activeTextEditor: undefined as { document: { uri: Uri } } | undefined,
  showErrorMessage: (text: string, ...rest: unknown[]) => message('error', text, rest),
  showWarningMessage: (text: string, ...rest: unknown[]) => message('warning', text, rest),
  showInformationMessage: (text: string, ...rest: unknown[]) => message('info', text, rest),
  showQuickPick: async (items: unknown, options?: unknown) => next('quickPick', await items, options),
  showInputBox: async (options?: unknown) => next('inputBox', options),
  showOpenDialog: async (options?: unknown) => next('openDialog', options),
  showSaveDialog: async (options?: unknown) => next('saveDialog', options),
  createOutputChannel: (name: string) => logChannel(name),
  createStatusBarItem(id: string): StubStatusBarItem {
    const item: StubStatusBarItem = {
      id,
      text: '',
      visible: false,
      show: () => (item.visible = true),
      hide: () => (item.visible = false),
      dispose: () => (item.visible = false),
    };
    stub.statusBarItems.push(item);
    return item;
  },
  withProgress: async <R>(_options: unknown, task: (progress: { report(value: unknown): void }, token: { onCancellationRequested: (l: Listener<void>) => Disposable }) => Promise<R>) =>
    task({ report: () => undefined }, { onCancellationRequested: new EventEmitter<void>().event }),
  registerTreeDataProvider: () => new Disposable(() => undefined),
  showTextDocument: async (uri: Uri, options?: unknown) => {
    stub.opened.push(uri.fsPath);
    return { uri, options };
  },
};

const configurationChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();

export const workspace = {
  isTrusted: true,
  workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  getConfiguration: (section: string) => ({
    get: (key: string) => stub.settings.get(`${section}.${key}`),
    update: async (key: string, value: unknown) => {
      if (value === undefined) stub.settings.delete(`${section}.${key}`);
      else stub.settings.set(`${section}.${key}`, value);
      configurationChanged.fire({ affectsConfiguration: (s) => `${section}.${key}`.startsWith(s) });
    },
  }),
  onDidChangeConfiguration: configurationChanged.event,
  onDidGrantWorkspaceTrust: new EventEmitter<void>().event,
  createFileSystemWatcher(pattern: RelativePattern) {
    const watcher = { pattern, disposed: false };
    stub.watchers.push(watcher);
    const never = new EventEmitter<Uri>().event;
    return { onDidCreate: never, onDidChange: never, onDidDelete: never, dispose: () => (watcher.disposed = true) };
  },
};

const registry = new Map<string, (...args: unknown[]) => unknown>();

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    if (registry.has(id)) throw new Error(`command '${id}' already exists`);
    registry.set(id, handler);
    return new Disposable(() => registry.delete(id));
  },
  async executeCommand<T>(id: string, ...args: unknown[]): Promise<T> {
    const handler = registry.get(id);
    if (!handler) {
      stub.executed.push({ id, args });
      return undefined as T;
    }
    return (await handler(...args)) as T;
  },
};

export const env = {
  clipboard: {
    writeText: async (text: string) => {
      stub.clipboard = text;
    },
    readText: async () => stub.clipboard,
  },
};

export const extensions = {
  getExtension: () => undefined,
};
