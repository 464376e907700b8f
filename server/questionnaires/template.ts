import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseYamlFile } from '../data-files';
import { z } from 'zod';

/**
 * Questionnaire templates: YAML data files in questionnaires/, validated when loaded. The format is
 * documented in questionnaires/README.md; this schema is its definition.
 */

export const QUESTION_TYPES = ['yes_no', 'single_choice', 'multi_choice', 'text', 'long_text', 'number', 'date', 'file'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lower-case letters, digits, "-" or "_" (at most 64)');

/** A citation names the rule exactly, e.g. "201 CMR 17.04(5)", "M.G.L. c.93I §2", "16 CFR 314.4(f)". */
const citation = z.string().trim().min(3, 'must name the rule').max(120);

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A test on one answer; exactly one operator. Used by conditions (show_if) and risk rules (when). */
const test = z
  .object({
    equals: scalar.optional(),
    not_equals: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
    includes: z.string().optional(),
    not_includes: z.string().optional(),
    answered: z.boolean().optional(),
    less_than: z.number().optional(),
    greater_than: z.number().optional(),
    older_than_months: z.number().int().positive().optional(),
  })
  .strict()
  .refine((t) => Object.values(t).filter((v) => v !== undefined).length === 1, 'must have exactly one operator (equals, not_equals, in, includes, not_includes, answered, less_than, greater_than, older_than_months)');

export type AnswerTest = z.infer<typeof test>;

const condition = z.intersection(z.object({ question: id }), test);

const riskRule = z
  .object({
    when: test,
    severity: z.enum(SEVERITIES),
    finding: z.string().trim().min(5).max(500),
    weight: z.number().int().min(1).max(100).default(5),
  })
  .strict();

const option = z.union([
  z.string().min(1).transform((s) => ({ value: s, label: s })),
  z.object({ value: z.string().min(1).max(100), label: z.string().min(1).max(300) }).strict(),
]);

const question = z
  .object({
    id,
    text: z.string().trim().min(5).max(1000),
    help: z.string().trim().max(2000).optional(),
    type: z.enum(QUESTION_TYPES),
    options: z.array(option).min(2).max(50).optional(),
    required: z.boolean().default(false),
    show_if: condition.optional(),
    citations: z.array(citation).min(1, 'needs at least one citation'),
    evidence: z.string().trim().max(500).optional(),
    risk: z.array(riskRule).max(10).default([]),
  })
  .strict();

const section = z
  .object({
    id,
    title: z.string().trim().min(2).max(200),
    description: z.string().trim().max(2000).optional(),
    questions: z.array(question).min(1),
  })
  .strict();

export const templateSchema = z
  .object({
    id,
    version: z.number().int().positive(),
    title: z.string().trim().min(3).max(200),
    description: z.string().trim().min(10).max(4000),
    estimated_minutes: z.number().int().positive().max(600).optional(),
    sections: z.array(section).min(1),
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Map<string, { type: QuestionType; values: Set<string> }>();
    t.sections.forEach((s, si) => {
      s.questions.forEach((q, qi) => {
        const at = (...rest: (string | number)[]) => ['sections', si, 'questions', qi, ...rest];
        if (seen.has(q.id)) ctx.addIssue({ code: 'custom', path: at('id'), message: `question id "${q.id}" is used twice` });
        const choice = q.type === 'single_choice' || q.type === 'multi_choice';
        if (choice && !q.options) ctx.addIssue({ code: 'custom', path: at('options'), message: `a ${q.type} question needs options` });
        if (!choice && q.options) ctx.addIssue({ code: 'custom', path: at('options'), message: `a ${q.type} question takes no options` });
        const values = new Set(q.type === 'yes_no' ? ['yes', 'no'] : (q.options ?? []).map((o) => o.value));
        if (q.options && values.size !== q.options.length) ctx.addIssue({ code: 'custom', path: at('options'), message: 'option values must be unique' });
        if (q.show_if) {
          const target = seen.get(q.show_if.question);
          if (!target) ctx.addIssue({ code: 'custom', path: at('show_if', 'question'), message: `"${q.show_if.question}" is not an earlier question` });
          else checkTest(q.show_if, target, at('show_if'), ctx);
        }
        q.risk.forEach((r, ri) => checkTest(r.when, { type: q.type, values }, at('risk', ri, 'when'), ctx));
        seen.set(q.id, { type: q.type, values });
      });
    });
  });

/** An operator must fit the question it tests, and named values must be among its options. */
function checkTest(t: AnswerTest, target: { type: QuestionType; values: Set<string> }, where: (string | number)[], ctx: z.RefinementCtx): void {
  const problem = (message: string) => ctx.addIssue({ code: 'custom', path: where, message });
  const hasValues = target.type === 'yes_no' || target.type === 'single_choice' || target.type === 'multi_choice';
  for (const v of [t.equals, t.not_equals, ...(t.in ?? []), t.includes, t.not_includes]) {
    if (v !== undefined && hasValues && !target.values.has(String(v))) problem(`"${String(v)}" is not an answer of that question (${[...target.values].join(', ')})`);
  }
  if ((t.includes !== undefined || t.not_includes !== undefined) && target.type !== 'multi_choice') problem('includes and not_includes apply to multi_choice questions');
  if ((t.less_than !== undefined || t.greater_than !== undefined) && target.type !== 'number') problem('less_than and greater_than apply to number questions');
  if (t.older_than_months !== undefined && target.type !== 'date') problem('older_than_months applies to date questions');
}

export type Template = z.infer<typeof templateSchema>;
export type TemplateSection = Template['sections'][number];
export type TemplateQuestion = TemplateSection['questions'][number];

export interface LoadedTemplate {
  file: string;
  id: string;
  version: number | null;
  title: string;
  valid: boolean;
  /** Each problem as "path: reason". */
  errors: string[];
  template: Template | null;
  /** SHA-256 of the normalized template: what a sent questionnaire pins. */
  contentHash: string | null;
}

/** The SHA-256 of a template's canonical JSON. */
export function hashTemplate(t: Template): string {
  return crypto.createHash('sha256').update(JSON.stringify(t)).digest('hex');
}

/** Parses and validates one file's text; never throws. */
export function parseTemplate(file: string, text: string): LoadedTemplate {
  const base = { file, id: path.basename(file).replace(/\.ya?ml$/, ''), version: null, title: path.basename(file), valid: false, template: null, contentHash: null };
  const result = parseYamlFile(file, text, templateSchema);
  if (!result.ok) {
    const d = (result.raw ?? {}) as { id?: unknown; version?: unknown; title?: unknown };
    return {
      ...base,
      id: typeof d.id === 'string' ? d.id : base.id,
      version: typeof d.version === 'number' ? d.version : null,
      title: typeof d.title === 'string' ? d.title : base.title,
      errors: result.errors,
    };
  }
  const t = result.data;
  return { file, id: t.id, version: t.version, title: t.title, valid: true, errors: [], template: t, contentHash: hashTemplate(t) };
}

/**
 * Loads every *.yaml / *.yml file of a folder. A broken file is returned as invalid (with its
 * problems) rather than thrown, so one bad template never stops the portal; two valid files with the
 * same id make both invalid.
 */
export function loadTemplates(dir: string): LoadedTemplate[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n)).sort();
  } catch {
    return [];
  }
  const loaded = names.map((n) => {
    try {
      return parseTemplate(n, fs.readFileSync(path.join(dir, n), 'utf8'));
    } catch (err) {
      return { file: n, id: n, version: null, title: n, valid: false, errors: [`${n}: ${(err as Error).message}`], template: null, contentHash: null };
    }
  });
  // Decide every duplicate before marking any, so both files of a pair are refused.
  const duplicates = loaded.map((t) => (t.valid ? loaded.filter((o) => o !== t && o.valid && o.id === t.id) : []));
  loaded.forEach((t, i) => {
    const twins = duplicates[i]!;
    if (twins.length === 0) return;
    t.valid = false;
    t.errors = [`${t.file}: id "${t.id}" is also used by ${twins.map((o) => o.file).join(', ')}`];
  });
  return loaded;
}
