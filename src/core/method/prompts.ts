// The prompt templates of the method: built-in ones shipped in prompts/<domain>/<name>.md, optionally replaced by a
// user's override folder. Everything is read and checked once, at load, so a bad template fails the run up front.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { SvdError } from '../base/errors';
import { DOMAINS } from '../base/types';
import type { ChatMessage, Domain } from '../base/types';

export const TEMPLATE_NAMES = ['generate', 'cycle_infer', 'cycle_compare', 'factuality', 'correctness'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export interface TemplateVars {
  question?: string;
  answer?: string;
  inferred_question?: string;
  language?: string;
}
type VarName = keyof TemplateVars;

const VAR_NAMES: readonly VarName[] = ['question', 'answer', 'inferred_question', 'language'];

/** What each step is given. The cycle's inference must never see the question, or the cycle proves nothing. */
const REQUIRED: Record<TemplateName, readonly VarName[]> = {
  generate: ['question'],
  cycle_infer: ['answer'],
  cycle_compare: ['question', 'inferred_question'],
  factuality: ['question', 'answer'],
  correctness: ['question', 'answer'],
};

/** The code's language is known only for coding; a template without a value for it would render a blank. */
const OPTIONAL: Record<Domain, readonly VarName[]> = { math: [], science: [], coding: ['language'] };

/** When the caller knows no language (generation), the method's default applies. */
const DEFAULT_LANGUAGE = 'Python';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

interface Resolved {
  domain: Domain;
  name: TemplateName;
  text: string;
  source: string;
}

export class PromptSet {
  readonly hash: string;

  private constructor(private readonly templates: ReadonlyMap<string, Resolved>) {
    const digest = createHash('sha256');
    for (const domain of DOMAINS) {
      for (const name of TEMPLATE_NAMES) {
        const template = this.resolved(domain, name);
        digest.update(JSON.stringify([domain, name, template.text]));
        digest.update('\n');
      }
    }
    this.hash = digest.digest('hex');
  }

  /**
   * Reads every template. For each domain and name the first that exists wins: `<overrideDir>/<domain>/<name>.md`,
   * `<overrideDir>/<name>.md` (all domains), then the built-in one.
   */
  static async load(options: { overrideDir?: string; builtinDir?: string } = {}): Promise<PromptSet> {
    const builtinDir = options.builtinDir ?? builtinPromptsDir();
    const overrideDir = options.overrideDir === undefined ? undefined : path.resolve(options.overrideDir);
    if (overrideDir !== undefined && !(await isDirectory(overrideDir))) {
      throw new SvdError('bad_config', `prompts folder not found: ${overrideDir}`);
    }
    const overrideRoot = overrideDir === undefined ? undefined : await realpath(overrideDir);
    const templates = new Map<string, Resolved>();
    for (const domain of DOMAINS) {
      for (const name of TEMPLATE_NAMES) {
        const candidates = overrideDir === undefined ? [] : [path.join(overrideDir, domain, `${name}.md`), path.join(overrideDir, `${name}.md`)];
        const builtin = path.join(builtinDir, domain, `${name}.md`);
        candidates.push(builtin);
        const source = await firstFile(candidates);
        if (source === undefined) throw new SvdError('internal', `built-in prompt template missing: ${builtin}`);
        if (overrideRoot !== undefined && source !== builtin) await checkInside(source, overrideRoot);
        const text = normalizeTemplate(await readFile(source, 'utf8'));
        validate(domain, name, text, source);
        templates.set(key(domain, name), { domain, name, text, source });
      }
    }
    return new PromptSet(templates);
  }

  /** The chat for one step: `{{var}}` replaced in one pass, so a value that itself holds `{{...}}` stays literal. */
  render(domain: Domain, name: TemplateName, vars: TemplateVars): ChatMessage[] {
    const template = this.resolved(domain, name);
    const content = template.text.replace(PLACEHOLDER, (_match, raw: string) => {
      const variable = raw as VarName;
      const value = variable === 'language' ? (vars.language ?? DEFAULT_LANGUAGE) : vars[variable];
      if (value === undefined) {
        throw new SvdError('internal', `prompt ${domain}/${name} needs {{${variable}}} but no value was given`);
      }
      return value;
    });
    return [{ role: 'user', content }];
  }

  /** A template's text as the run sends it, before its variables are filled (a published dataset shows them). */
  text(domain: Domain, name: TemplateName): string {
    return this.resolved(domain, name).text;
  }

  /** The file a template came from, for messages and for showing the user which prompt ran. */
  source(domain: Domain, name: TemplateName): string {
    return this.resolved(domain, name).source;
  }

  private resolved(domain: Domain, name: TemplateName): Resolved {
    const template = this.templates.get(key(domain, name));
    if (template === undefined) throw new SvdError('internal', `no prompt template ${domain}/${name}`);
    return template;
  }
}

function key(domain: Domain, name: TemplateName): string {
  return `${domain}/${name}`;
}

/** A BOM or Windows line endings must not change what is sent, nor the hash that decides whether a run can resume. */
function normalizeTemplate(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').trim();
}

function validate(domain: Domain, name: TemplateName, text: string, source: string): void {
  const used = new Set<string>();
  for (const match of text.matchAll(PLACEHOLDER)) used.add(match[1] ?? '');
  const required = REQUIRED[name];
  const allowed = new Set<string>([...required, ...OPTIONAL[domain]]);
  for (const variable of used) {
    if (allowed.has(variable)) continue;
    if (name === 'cycle_infer' && variable === 'question') {
      throw new SvdError(
        'bad_config',
        `${source}: {{question}} is not allowed in cycle_infer: that judge infers the question from the answer alone`,
      );
    }
    const known = (VAR_NAMES as readonly string[]).includes(variable);
    throw new SvdError(
      'bad_config',
      `${source}: ${known ? 'placeholder not available in' : 'unknown placeholder'} {{${variable}}} ` +
        `(${domain} ${name} may use ${[...allowed].map((v) => `{{${v}}}`).join(', ')})`,
    );
  }
  for (const variable of required) {
    if (!used.has(variable)) throw new SvdError('bad_config', `${source}: missing required placeholder {{${variable}}}`);
  }
}

/**
 * An override reached through a link must stay inside the prompts folder: a folder shared with a run (or checked
 * out from elsewhere) must not make the method send any file of the machine to the model.
 */
async function checkInside(source: string, root: string): Promise<void> {
  const real = await realpath(source);
  const relative = path.relative(root, real);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new SvdError(
      'bad_config',
      `${source}: a link leading outside the prompts folder (to ${real}); copy the template into the folder instead`,
    );
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

async function firstFile(paths: readonly string[]): Promise<string | undefined> {
  for (const file of paths) {
    try {
      if ((await stat(file)).isFile()) return file;
    } catch {
      // Absent: try the next place.
    }
  }
  return undefined;
}

/**
 * The package's prompts/ folder: the nearest folder above this module holding both package.json and prompts/.
 * Walking up works from src/core (tsx) and from dist/ (the esbuild bundle) alike.
 */
export function builtinPromptsDir(): string {
  let dir = __dirname;
  for (;;) {
    const prompts = path.join(dir, 'prompts');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(prompts) && statSync(prompts).isDirectory()) return prompts;
    const parent = path.dirname(dir);
    if (parent === dir) throw new SvdError('internal', `no prompts/ folder found above ${__dirname}`);
    dir = parent;
  }
}
