import type { AnswerValue } from './entities';
import type { AnswerTest, Template, TemplateQuestion } from './template';

export type Answers = Map<string, AnswerValue>;

const MAX_TEXT = 2000;
const MAX_LONG_TEXT = 20000;

/** Whether one answer passes a test (a condition or a risk rule's `when`), judged on `today`. */
export function testAnswer(t: AnswerTest, value: AnswerValue | undefined, today: string): boolean {
  const v = value ?? null;
  const isBlank = v === null || v === '' || (Array.isArray(v) && v.length === 0);
  if (t.answered !== undefined) return t.answered ? !isBlank : isBlank;
  if (isBlank) return false;
  if (t.equals !== undefined) return String(v) === String(t.equals);
  if (t.not_equals !== undefined) return String(v) !== String(t.not_equals);
  if (t.in !== undefined) return t.in.map(String).includes(String(v));
  if (t.includes !== undefined) return Array.isArray(v) && v.includes(t.includes);
  if (t.not_includes !== undefined) return Array.isArray(v) && !v.includes(t.not_includes);
  if (t.less_than !== undefined) return typeof v === 'number' && v < t.less_than;
  if (t.greater_than !== undefined) return typeof v === 'number' && v > t.greater_than;
  if (t.older_than_months !== undefined && typeof v === 'string') {
    const [y, m, d] = today.split('-').map(Number) as [number, number, number];
    const cutoff = new Date(Date.UTC(y, m - 1 - t.older_than_months, d)).toISOString().slice(0, 10);
    return v < cutoff;
  }
  return false;
}

/** A question shows when it has no condition, or its condition holds on the answers given so far. */
export function isVisible(q: TemplateQuestion, answers: Answers, today: string): boolean {
  if (!q.show_if) return true;
  const { question, ...t } = q.show_if;
  return testAnswer(t, answers.get(question), today);
}

/** Every question of a template, in order, with its section. */
export function allQuestions(t: Template): { sectionId: string; q: TemplateQuestion }[] {
  return t.sections.flatMap((s) => s.questions.map((q) => ({ sectionId: s.id, q })));
}

/** Whether a question counts as answered (file questions by their uploaded files). */
export function isAnswered(q: TemplateQuestion, value: AnswerValue | undefined, fileCount: number): boolean {
  if (q.type === 'file') return fileCount > 0;
  return !(value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0));
}

/**
 * Turns what a form sent for one question into the stored value, or a reason it cannot be stored.
 * `raw` is a string, a list of strings (checkboxes) or undefined (nothing chosen).
 */
export function normalizeAnswer(q: TemplateQuestion, raw: unknown): { value: AnswerValue } | { error: string } {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
  const one = (list[0] ?? '').trim();
  const allowed = q.type === 'yes_no' ? ['yes', 'no'] : (q.options ?? []).map((o) => o.value);
  switch (q.type) {
    case 'yes_no':
    case 'single_choice':
      if (one === '') return { value: null };
      return allowed.includes(one) ? { value: one } : { error: 'Choose one of the answers offered.' };
    case 'multi_choice': {
      const chosen = [...new Set(list.map((s) => s.trim()).filter(Boolean))];
      if (chosen.some((c) => !allowed.includes(c))) return { error: 'Choose among the answers offered.' };
      return { value: chosen.length ? allowed.filter((a) => chosen.includes(a)) : null };
    }
    case 'text':
    case 'long_text': {
      const max = q.type === 'text' ? MAX_TEXT : MAX_LONG_TEXT;
      const text = list.join('\n').replace(/\r\n/g, '\n').trim();
      if (text.length > max) return { error: `At most ${max.toLocaleString('en-US')} characters (this has ${text.length.toLocaleString('en-US')}).` };
      return { value: text === '' ? null : text };
    }
    case 'number': {
      if (one === '') return { value: null };
      const n = Number(one.replace(/,/g, ''));
      if (!Number.isFinite(n) || one.length > 30) return { error: 'Enter a number, such as 95 or 12.5.' };
      return { value: n };
    }
    case 'date': {
      if (one === '') return { value: null };
      const ok = /^\d{4}-\d{2}-\d{2}$/.test(one) && !Number.isNaN(Date.parse(`${one}T00:00:00Z`)) && new Date(`${one}T00:00:00Z`).toISOString().startsWith(one);
      return ok ? { value: one } : { error: 'Enter a date as YYYY-MM-DD.' };
    }
    case 'file':
      return { value: null };
  }
}

/** An answer as a person reads it: option labels, "Yes"/"No", dates and numbers as given. */
export function displayAnswer(q: TemplateQuestion, value: AnswerValue | undefined): string {
  if (value === undefined || value === null || value === '') return '';
  if (q.type === 'yes_no') return value === 'yes' ? 'Yes' : 'No';
  const label = (v: string) => q.options?.find((o) => o.value === v)?.label ?? v;
  if (Array.isArray(value)) return value.map(label).join('; ');
  if (q.type === 'single_choice') return label(String(value));
  return String(value);
}
