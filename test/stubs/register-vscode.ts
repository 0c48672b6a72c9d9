// Maps the `vscode` module to test/stubs/vscode.ts for plain Node tests of editor code. Import it first, before any
// module under src/vscode:  import '../stubs/register-vscode';
import Module from 'node:module';

const STUB = require.resolve('./vscode');
const resolver = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
const resolve = resolver._resolveFilename;
if (!(resolve as { svdStub?: boolean }).svdStub) {
  const mapped = function (this: unknown, request: string, ...rest: unknown[]): string {
    return request === 'vscode' ? STUB : resolve.call(this, request, ...rest);
  };
  (mapped as { svdStub?: boolean }).svdStub = true;
  resolver._resolveFilename = mapped;
}
