import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { AuditEntry } from '../server/audit/entities';
import { Finding } from '../server/findings/entities';
import { AnswerHistory } from '../server/questionnaires/entities';
import { parseTemplate } from '../server/questionnaires/template';
import { residualRating, scoreAnswers } from '../server/reviews/scoring';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, csrfFrom, makeVendor, signedIn, submit } from './helpers/http';
import { saveSection, submitAnswers, TEST_TEMPLATE } from './helpers/portal';
import { type SmtpListener, startSmtp } from './helpers/smtp';

const SCORING = `id: scoring
version: 1
title: Scoring rules
description: Every kind of rule, for the tests.
sections:
  - id: s
    title: Security
    questions:
      - id: mfa
        text: Do you enforce MFA?
        type: yes_no
        citations: ["201 CMR 17.04(1)"]
        risk:
          - { when: { equals: "no" }, severity: high, finding: No MFA., weight: 6 }
          - { when: { answered: false }, severity: medium, finding: MFA unanswered., weight: 3 }
      - id: mfa_scope
        text: Where is MFA enforced?
        type: multi_choice
        options: [email, vpn, none]
        show_if: { question: mfa, equals: "yes" }
        citations: ["201 CMR 17.04(1)"]
        risk:
          - { when: { includes: none }, severity: critical, finding: MFA nowhere., weight: 10 }
      - id: trained
        text: Training completion percent?
        type: number
        citations: ["201 CMR 17.04(8)"]
        risk:
          - { when: { less_than: 90 }, severity: low, finding: Training below 90%., weight: 1 }
      - id: pentest
        text: Last penetration test?
        type: date
        citations: ["201 CMR 17.03(2)(h)"]
        risk:
          - { when: { older_than_months: 12 }, severity: high, finding: Penetration test older than a year., weight: 6 }
      - id: soc2
        text: Upload your SOC 2 report.
        type: file
        citations: ["Due diligence DD-02"]
        risk:
          - { when: { answered: false }, severity: medium, finding: No SOC 2 report., weight: 3 }
`;

describe('scoring', () => {
  const template = parseTemplate('scoring.yaml', SCORING).template!;
  const today = '2026-06-01';

  test('When every answer is good, then the score is 100 with no findings', () => {
    const r = scoreAnswers(template, new Map<string, string | number | string[]>([['mfa', 'yes'], ['mfa_scope', ['email', 'vpn']], ['trained', 97], ['pentest', '2026-01-10']]), new Map([['soc2', 1]]), today);
    assert.equal(r.score, 100);
    assert.deepEqual(r.findings, []);
  });

  test('When rules trigger, then each becomes a finding and the question loses its largest triggered weight', () => {
    const r = scoreAnswers(template, new Map<string, string | number | string[]>([['mfa', 'no'], ['mfa_scope', ['none']], ['trained', 75], ['pentest', '2025-05-01']]), new Map(), today);
    // possible: mfa 6 + trained 1 + pentest 6 + soc2 3 = 16 (mfa_scope is hidden when mfa = no)
    // lost: 6 + 1 + 6 + 3 = 16
    assert.equal(r.score, 0);
    assert.deepEqual(r.findings.map((f) => [f.ruleKey, f.severity]), [['mfa#0', 'high'], ['trained#0', 'low'], ['pentest#0', 'high'], ['soc2#0', 'medium']]);
    assert.equal(r.findings[0]!.citation, '201 CMR 17.04(1)');
    assert.equal(r.findings[0]!.answerText, 'No');
    assert.equal(r.findings[3]!.answerText, 'No file uploaded');
    const partial = scoreAnswers(template, new Map<string, string | number | string[]>([['mfa', 'yes'], ['mfa_scope', ['none']], ['trained', 95], ['pentest', '2026-03-01']]), new Map([['soc2', 2]]), today);
    // possible 6 + 10 + 1 + 6 + 3 = 26; lost 10 (the condition now shows mfa_scope)
    assert.equal(partial.score, Math.round(100 * (1 - 10 / 26)));
    assert.deepEqual(partial.findings.map((f) => f.title), ['MFA nowhere.']);
    const blank = scoreAnswers(template, new Map(), new Map([['soc2', 1]]), today);
    assert.deepEqual(blank.findings.map((f) => f.title), ['MFA unanswered.']);
  });

  test('When the residual rating is computed, then tier and worst open finding combine by the matrix', () => {
    assert.equal(residualRating('critical', null), 'medium');
    assert.equal(residualRating('critical', 'high'), 'critical');
    assert.equal(residualRating('high', 'medium'), 'high');
    assert.equal(residualRating('low', 'medium'), 'low');
    assert.equal(residualRating('low', 'critical'), 'high');
    assert.equal(residualRating('none', null), 'low');
  });
});

describe('review workflow', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  let reviewer: Awaited<ReturnType<typeof signedIn>>;
  let proc: Awaited<ReturnType<typeof signedIn>>;
  let admin: Agent;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
    smtp = await startSmtp();
    t = await createTestApp({ smtp, templatesDir: dir });
    reviewer = await signedIn(t, 'reviewer');
    proc = await signedIn(t, 'procurement');
    admin = (await signedIn(t, 'admin')).agent;
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  /** A submitted questionnaire where the vendor said it has no written program. */
  async function submitted() {
    const vendor = await makeVendor(t, { businessOwnerId: proc.user.id, status: 'onboarding', lastAssessedOn: null });
    const contact = await t.ctx.vendors.addContact({ type: 'system', id: null, label: 'test', ip: null }, vendor.id, { name: 'Vic', email: `vic${vendor.id}@v.example`, isSecurityContact: true });
    const res = await submit(proc.agent, `/vendors/${vendor.id}/questionnaires/new`, `/vendors/${vendor.id}/questionnaires/new`, { contactId: String(contact.id), templateId: 'test-dd', dueDate: '2026-04-01' });
    const link = /value="(http:\/\/portal\.test\/q\/[A-Za-z0-9_-]+)"/.exec(res.text)![1]!;
    const base = new URL(link).pathname;
    const q = (await t.ctx.questionnaires.forVendor(vendor.id))[0]!;
    await saveSection(t.app, base, 'program', { wisp: 'no', trained: '80' });
    await saveSection(t.app, base, 'incidents', { incident: 'no' });
    assert.equal((await submitAnswers(t.app, base)).status, 303);
    return { vendor, contact, q, base, link };
  }

  async function reviewPost(agent: Agent, qid: number, fields: Record<string, string>) {
    const page = await agent.get(`/questionnaires/${qid}/review`);
    return agent.post(`/questionnaires/${qid}/review`).type('form').send({ ...fields, _csrf: csrfFrom(page.text) });
  }

  test('When a questionnaire is submitted, then it is scored, findings are generated, and procurement sees the results', async () => {
    const { q, vendor, base } = await submitted();
    const stored = await t.ctx.questionnaires.get(q.id);
    assert.equal(stored.score, 0, 'the only rule (no WISP, weight 10) triggered');
    const findings = await t.ctx.ds.getRepository(Finding).findBy({ questionnaireId: q.id });
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.severity, 'critical');
    assert.equal(findings[0]!.citation, '201 CMR 17.03(1)');
    assert.equal(findings[0]!.answerText, 'No');
    const v = await t.ctx.vendors.get(vendor.id);
    assert.equal(v.lastScore, 0);
    assert.equal(v.residualRating, 'critical', 'high tier with an open critical finding');
    const page = await proc.agent.get(`/questionnaires/${q.id}`);
    assert.match(page.text, /<dt>Score<\/dt><dd>0\/100<\/dd>/);
    const list = await proc.agent.get(`/vendors?q=${encodeURIComponent(vendor.legalName)}`);
    assert.match(list.text, /<span class="tier tier-critical">critical<\/span> <span class="hint">0\/100<\/span>/);
    assert.equal((await proc.agent.get(`/questionnaires/${q.id}/review`)).status, 403, 'procurement sees results, reviewers review');
    const portal = await request(t.app).get(base);
    assert.doesNotMatch(portal.text, /0\/100|critical|Score/i, 'the vendor never sees scores');
  });

  test('When a reviewer asks for clarification twice, then only those questions reopen, with history kept, and rescoring follows', async () => {
    const { q, base, link, contact } = await submitted();
    const missing = await reviewPost(reviewer.agent, q.id, { mark__wisp: 'clarify' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /Write what the vendor should clarify/);
    const res = await reviewPost(reviewer.agent, q.id, {
      mark__wisp: 'clarify',
      clarification__wisp: 'Your SOC 2 report mentions a security policy. Is it written down?',
      comment__wisp: 'INTERNAL: SOC report says yes',
      mark__trained: 'clarify',
      clarification__trained: 'Is 80% this year or last?',
      mark__incident: 'accepted',
      action: 'clarify',
    });
    assert.equal(res.status, 303, res.text.slice(0, 300));
    assert.equal((await t.ctx.questionnaires.get(q.id)).status, 'returned');
    const mail = await smtp.waitFor((m) => m.to.includes(contact.email) && /^Please clarify 2 answers/.test(m.subject));
    assert.ok(mail.text.includes(link), 'the same link as before');
    assert.match(mail.text, /Is 80% this year or last\?/);

    const welcome = await request(t.app).get(base);
    assert.equal(welcome.status, 200);
    assert.match(welcome.text, /Please clarify 2 answers/);
    assert.doesNotMatch(welcome.text, /INTERNAL/, 'internal comments stay internal');
    const section = await request(t.app).get(`${base}/s/incidents`);
    assert.match(section.text, /class="question question-locked" id="q-incident"/);
    assert.doesNotMatch(section.text, /name="a__incident"/);

    await saveSection(t.app, base, 'program', { wisp: 'yes', trained: '95' });
    await saveSection(t.app, base, 'incidents', { incident: 'yes' });
    const ans = (await t.ctx.questionnaires.content(q.id)).answers;
    assert.equal(ans.get('incident'), 'no', 'a question not reopened cannot change');
    assert.equal(ans.get('wisp'), 'yes');
    const refused = await submitAnswers(t.app, base);
    assert.equal(refused.status, 400, 'the follow-up upload the new answer calls for is required');
    const PDF = Buffer.from('%PDF-1.4\n%%EOF\n');
    const upload = await saveSection(t.app, base, 'program', { wisp: 'yes', trained: '95' }, { files: [{ questionId: 'wisp_doc', name: 'wisp.pdf', content: PDF }] });
    assert.equal(upload.status, 303, 'a follow-up of a reopened question can be answered too');
    const history = await t.ctx.ds.getRepository(AnswerHistory).find({ where: { questionnaireId: q.id, questionId: 'wisp' }, order: { id: 'ASC' } });
    assert.deepEqual(history.map((h) => [h.previousValue, h.newValue]), [[null, 'no'], ['no', 'yes']]);
    assert.match(history[1]!.changedBy, new RegExp(contact.email));
    assert.equal((await submitAnswers(t.app, base)).status, 303);
    const after = await t.ctx.questionnaires.get(q.id);
    assert.equal(after.status, 'submitted');
    assert.equal(after.score, 100, 'no rule triggers any more');
    const finding = await t.ctx.ds.getRepository(Finding).findOneByOrFail({ questionnaireId: q.id, ruleKey: 'wisp#0' });
    assert.equal(finding.status, 'closed', 'the generated finding closed after the clarification');
    assert.equal((await t.ctx.vendors.get(q.vendorId)).residualRating, 'low');

    const round2 = await reviewPost(reviewer.agent, q.id, { mark__trained: 'clarify', clarification__trained: 'Is 95% confirmed by your LMS?', action: 'clarify' });
    assert.equal(round2.status, 303);
    assert.deepEqual((await t.ctx.reviews.rounds(q.id)).map((r) => [r.round, r.questions.length, r.respondedAt !== null]), [[1, 2, true], [2, 1, false]]);
    await saveSection(t.app, base, 'program', { trained: '96' });
    assert.equal((await submitAnswers(t.app, base)).status, 303);
    assert.equal((await t.ctx.questionnaires.content(q.id)).answers.get('trained'), 96);
    assert.deepEqual((await t.ctx.reviews.rounds(q.id)).map((r) => r.respondedAt !== null), [true, true]);
  });

  test('When clarifications are requested through the API, then the round opens and the vendor is emailed', async () => {
    const { q, contact } = await submitted();
    const api = await request(t.app)
      .post(`/api/v1/questionnaires/${q.id}/clarifications`)
      .set('Authorization', `Bearer ${await token(reviewer.agent)}`)
      .send({ questions: [{ questionId: 'wisp', message: 'Please attach the program.' }] });
    assert.equal(api.status, 201, JSON.stringify(api.body));
    assert.equal(api.body.round, 1);
    assert.equal((await t.ctx.questionnaires.get(q.id)).status, 'returned');
    await smtp.waitFor((m) => m.to.includes(contact.email) && /^Please clarify 1 answer:/.test(m.subject));
    const unknown = await request(t.app).post(`/api/v1/questionnaires/${q.id}/review`).set('Authorization', `Bearer ${await token(reviewer.agent)}`).send({ marks: [{ questionId: 'wisp', mark: 'accepted' }] });
    assert.equal(unknown.status, 409, 'a returned questionnaire is not under review');
  });

  test('When a reviewer approves, then the vendor gets its assessment dates; a rejection blocks activation unless an admin overrides', async () => {
    const a = await submitted();
    const noReason = await reviewer.agent.post(`/questionnaires/${a.q.id}/decision`).type('form').send({ _csrf: csrfFrom((await reviewer.agent.get(`/questionnaires/${a.q.id}/review`)).text), decision: 'approved' });
    assert.equal(noReason.status, 400);
    assert.match(noReason.text, /Reason is required/);
    const ok = await reviewer.agent.post(`/questionnaires/${a.q.id}/decision`).type('form').send({ _csrf: csrfFrom((await reviewer.agent.get(`/questionnaires/${a.q.id}/review`)).text), decision: 'approved', reason: 'Accepted with the WISP finding as a condition.' });
    assert.equal(ok.status, 303);
    const v = await t.ctx.vendors.get(a.vendor.id);
    assert.equal(v.lastAssessedOn, '2026-03-02');
    assert.equal(v.nextReassessmentOn, '2027-03-02', 'high tier: 12 months');
    assert.equal(v.lastDecision, 'approved');
    assert.equal((await t.ctx.ds.getRepository(Finding).findOneByOrFail({ questionnaireId: a.q.id })).status, 'open', 'findings stay open as conditions');
    const vendorPage = await proc.agent.get(`/vendors/${a.vendor.id}`);
    assert.match(vendorPage.text, /Risk history/);
    assert.match(vendorPage.text, /1 critical/);
    assert.match(vendorPage.text, /2027-03-02/);
    assert.equal((await t.ctx.questionnaires.get(a.q.id)).status, 'approved');

    const b = await submitted();
    const rejected = await reviewer.agent.post(`/questionnaires/${b.q.id}/decision`).type('form').send({ _csrf: csrfFrom((await reviewer.agent.get(`/questionnaires/${b.q.id}/review`)).text), decision: 'rejected', reason: 'No written program.' });
    assert.equal(rejected.status, 303);
    assert.equal((await t.ctx.vendors.get(b.vendor.id)).lastAssessedOn, null);
    const blocked = await submit(proc.agent, `/vendors/${b.vendor.id}`, `/vendors/${b.vendor.id}/status`, { to: 'active', reason: 'Go live', override: 'on' });
    assert.equal(blocked.status, 409, 'procurement cannot override');
    assert.match(blocked.text, /latest assessment of this vendor was rejected/);
    const overridden = await submit(admin, `/vendors/${b.vendor.id}`, `/vendors/${b.vendor.id}/status`, { to: 'active', reason: 'Board accepted the risk on 2026-03-01', override: 'on' });
    assert.equal(overridden.status, 303);
    assert.equal((await t.ctx.vendors.get(b.vendor.id)).status, 'active');
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'vendor.status_changed', entityId: String(b.vendor.id) });
    assert.equal(entry.details!.overrideOfRejectedAssessment, true);
    const again = await reviewer.agent.post(`/questionnaires/${b.q.id}/decision`).type('form').send({ _csrf: csrfFrom((await reviewer.agent.get(`/questionnaires/${b.q.id}/review`)).text), decision: 'approved', reason: 'x' });
    assert.equal(again.status, 409, 'decided once');
  });

  test('When other roles try to review or decide, then they are refused', async () => {
    const { q } = await submitted();
    for (const role of ['procurement', 'legal', 'viewer'] as const) {
      const u = role === 'procurement' ? proc : await signedIn(t, role);
      const _csrf = csrfFrom((await u.agent.get('/')).text);
      assert.equal((await u.agent.post(`/questionnaires/${q.id}/review`).type('form').send({ _csrf, mark__wisp: 'accepted' })).status, 403);
      assert.equal((await u.agent.post(`/questionnaires/${q.id}/decision`).type('form').send({ _csrf, decision: 'approved', reason: 'x' })).status, 403);
    }
    const viewerToken = await token((await signedIn(t, 'viewer')).agent);
    const api = await request(t.app).post(`/api/v1/questionnaires/${q.id}/decision`).set('Authorization', `Bearer ${viewerToken}`).send({ decision: 'approved', reason: 'x' });
    assert.equal(api.status, 403);
    const reviewerApi = await request(t.app).post(`/api/v1/questionnaires/${q.id}/decision`).set('Authorization', `Bearer ${await token(reviewer.agent)}`).send({ decision: 'rejected', reason: 'Missing program', extra: 1 });
    assert.equal(reviewerApi.status, 400);
    assert.equal(reviewerApi.body.error.fields.extra, 'Unknown field.');
  });

  async function token(agent: Agent): Promise<string> {
    const res = await submit(agent, '/account/tokens', '/account/tokens', { name: `t${Math.random()}` });
    return /value="(ovs_[^"]+)"/.exec(res.text)![1]!;
  }
});
