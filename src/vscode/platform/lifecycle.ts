// Ownership of disposables: a class registers what it creates and releases all of it once, in reverse order.
import type * as vscode from 'vscode';

export abstract class Disposable implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposedFlag = false;

  protected get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** Takes ownership of `disposable`; one registered after dispose is released at once, so nothing leaks. */
  protected _register<T extends vscode.Disposable>(disposable: T): T {
    if (this.disposedFlag) disposable.dispose();
    else this.owned.push(disposable);
    return disposable;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    // Later registrations may depend on earlier ones, so they go first.
    for (const disposable of this.owned.splice(0).reverse()) {
      try {
        disposable.dispose();
      } catch {
        // One failing dispose must not keep the rest alive.
      }
    }
  }
}
