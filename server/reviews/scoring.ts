import { allQuestions, type Answers, displayAnswer, isVisible, testAnswer } from '../questionnaires/answers';
import type { Severity, Template } from '../questionnaires/template';
import type { GeneratedFinding } from '../findings/generated';
import type { Tier } from '../vendors/risk';

/**
 * Scoring at submission, from the risk rules of the questionnaire's template (README.md, "Scoring").
 *
 * Every question shown to the vendor that has risk rules can lose points: it is worth the largest
 * weight among its rules, and loses the largest weight among the rules its answer triggers.
 *   score = round(100 x (1 - lost / possible)), or 100 when no shown question has rules.
 * Each triggered rule becomes a finding with the rule's severity and text, the question's
 * citations and the answer that caused it. Rules of questions hidden by their condition do not apply.
 */
export function scoreAnswers(template: Template, answers: Answers, fileCounts: Map<string, number>, today: string): { score: number; findings: GeneratedFinding[] } {
  let possible = 0;
  let lost = 0;
  const findings: GeneratedFinding[] = [];
  for (const { q } of allQuestions(template)) {
    if (q.risk.length === 0 || !isVisible(q, answers, today)) continue;
    const value = q.type === 'file' ? ((fileCounts.get(q.id) ?? 0) > 0 ? `${fileCounts.get(q.id)} file(s)` : null) : answers.get(q.id);
    possible += Math.max(...q.risk.map((r) => r.weight));
    let worst = 0;
    q.risk.forEach((rule, index) => {
      if (!testAnswer(rule.when, value ?? null, today)) return;
      worst = Math.max(worst, rule.weight);
      findings.push({
        questionId: q.id,
        ruleKey: `${q.id}#${index}`,
        title: rule.finding,
        severity: rule.severity,
        citation: q.citations.join('; '),
        answerText: q.type === 'file' ? (value ? String(value) : 'No file uploaded') : displayAnswer(q, value) || 'Not answered',
      });
    });
    lost += worst;
  }
  return { score: possible === 0 ? 100 : Math.round(100 * (1 - lost / possible)), findings };
}

/**
 * Residual risk: the inherent tier (rows) against the worst open finding (columns).
 * Documented as a table in README.md.
 */
const MATRIX: Record<Tier, Record<Severity | 'none', Severity>> = {
  critical: { none: 'medium', low: 'medium', medium: 'high', high: 'critical', critical: 'critical' },
  high: { none: 'low', low: 'medium', medium: 'high', high: 'high', critical: 'critical' },
  medium: { none: 'low', low: 'low', medium: 'medium', high: 'high', critical: 'high' },
  low: { none: 'low', low: 'low', medium: 'low', high: 'medium', critical: 'high' },
  none: { none: 'low', low: 'low', medium: 'low', high: 'medium', critical: 'medium' },
};

export function residualRating(tier: Tier, worstOpenFinding: Severity | null): Severity {
  return MATRIX[tier][worstOpenFinding ?? 'none'];
}
