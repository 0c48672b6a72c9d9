// A JSON file the project wrote itself (a run's manifest, a training record, a sweep's or an evaluation's result),
// read back and checked against its schema, with errors that name the file and the field.
import * as fs from 'node:fs';
import type { z } from 'zod';
import { SvdError, describeError } from '../base/errors';
import { issueText } from '../base/zodIssues';

/** undefined when the file does not exist. @throws SvdError (internal) when it is unreadable, not JSON, or invalid. */
export function readJsonFileIfExists<T>(file: string, schema: z.ZodType<T>, what: string): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SvdError('internal', `${file}: cannot read the ${what} (${describeError(error)})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SvdError('internal', `${file}: the ${what} is not JSON (${describeError(error)})`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new SvdError('internal', `${file}: invalid ${what}: ${issueText(parsed.error)}`);
  return parsed.data;
}

/** @throws SvdError: not_found when the file does not exist, internal as readJsonFileIfExists. */
export function readJsonFile<T>(file: string, schema: z.ZodType<T>, what: string): T {
  const value = readJsonFileIfExists(file, schema, what);
  if (value === undefined) throw new SvdError('not_found', `${file}: no ${what} there`);
  return value;
}
