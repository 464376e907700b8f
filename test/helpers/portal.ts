import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';

export const TEST_TEMPLATE = `id: test-dd
version: 1
title: Test due diligence
description: A short questionnaire used by the tests.
estimated_minutes: 5
sections:
  - id: program
    title: Program
    questions:
      - id: wisp
        text: Do you maintain a written information security program?
        type: yes_no
        required: true
        citations: ["201 CMR 17.03(1)"]
        risk:
          - when: { equals: "no" }
            severity: critical
            finding: No written information security program.
            weight: 10
      - id: wisp_doc
        text: Upload your WISP or its table of contents.
        type: file
        required: true
        show_if: { question: wisp, equals: "yes" }
        citations: ["201 CMR 17.03(1)"]
      - id: trained
        text: What share of staff completed security training this year (percent)?
        type: number
        citations: ["201 CMR 17.04(8)"]
  - id: incidents
    title: Incidents
    questions:
      - id: incident
        text: Did you have a security incident in the last three years?
        type: yes_no
        required: true
        citations: ["Due diligence DD-03"]
      - id: incident_details
        text: Describe the incident and its remediation.
        type: long_text
        required: true
        show_if: { question: incident, equals: "yes" }
        citations: ["201 CMR 17.03(2)(j)"]
      - id: reports
        text: Which independent reports can you share?
        type: multi_choice
        options: [soc2, iso27001, none]
        citations: ["Due diligence DD-02"]
      - id: reviewed_on
        text: When did you last review your program?
        type: date
        citations: ["201 CMR 17.03(2)(i)"]
`;

/** The form token and action of a portal section page. */
export async function sectionForm(app: Express, base: string, sectionId: string): Promise<{ action: string; html: string }> {
  const page = await request(app).get(`${base}/s/${sectionId}`);
  assert.equal(page.status, 200, `GET ${base}/s/${sectionId}: ${page.status}`);
  const m = /<form method="post" action="([^"]+)" enctype="multipart\/form-data"/.exec(page.text);
  assert.ok(m, 'the section has a multipart form');
  return { action: m[1]!.replace(/&amp;/g, '&'), html: page.text };
}

/**
 * Posts a section as a browser would: `fields` are answers by question id (arrays for checkboxes),
 * every question of the section is marked present, and files are attached by question id.
 */
export async function saveSection(
  app: Express,
  base: string,
  sectionId: string,
  fields: Record<string, string | string[]>,
  opts: { files?: { questionId: string; name: string; content: Buffer }[]; action?: string } = {},
) {
  const { action, html } = await sectionForm(app, base, sectionId);
  let req = request(app).post(action);
  for (const m of html.matchAll(/name="present__([a-z0-9_-]+)"/g)) req = req.field(`present__${m[1]}`, '1');
  for (const [k, v] of Object.entries(fields)) for (const one of ([] as string[]).concat(v)) req = req.field(`a__${k}`, one);
  req = req.field('action', opts.action ?? 'save');
  for (const f of opts.files ?? []) req = req.attach(`file__${f.questionId}`, f.content, f.name);
  return req;
}

/** The form token of the review page. */
export async function submitAnswers(app: Express, base: string) {
  const page = await request(app).get(`${base}/review`);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  assert.ok(token, 'the review page has a submit form');
  return request(app).post(`${base}/submit`).type('form').send({ _csrf: token });
}

/** A small but real PDF. */
export const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\nCONFIDENTIAL-SOC2-CONTENT\n', 'latin1');
