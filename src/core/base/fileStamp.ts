// A cheap "did this file change" key for the views that poll or watch run files. No `vscode` import.
import * as fs from 'node:fs';

/** The file's size and modification time; undefined when it is missing or not a file. */
export function fileStamp(file: string): string | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? `${stat.size}:${stat.mtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}
