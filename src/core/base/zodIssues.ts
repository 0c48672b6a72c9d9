// A schema's complaints as text for a person: which field, and what it must be. Every boundary that validates with
// zod words its errors through here, so they read the same everywhere.
import type { z } from 'zod';

type Issue = z.ZodError['issues'][number];

/** Where an issue sits: its path joined with dots (`generation.topP`), or '' for the value itself. */
export function issuePath(issue: Issue): string {
  // A path may hold symbols, which join() cannot print.
  return issue.path.map(String).join('.');
}

/**
 * Every issue in one line: `field.path: message; ...`. An issue about the value itself is shown under `root` (what
 * the value is: '(root)', '(body)', '(options)'), or as the bare message when `root` is ''.
 */
export function issueText(error: z.ZodError, root = '(root)'): string {
  return error.issues
    .map((issue) => {
      const where = issuePath(issue) || root;
      return where === '' ? issue.message : `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** The first issue, for messages that name one problem; undefined for an error without issues. */
export function firstIssue(error: z.ZodError): { path: string; message: string } | undefined {
  const issue = error.issues[0];
  return issue === undefined ? undefined : { path: issuePath(issue), message: issue.message };
}
