import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addMonths, assessmentState, computeTier, DEFAULT_INTERVALS, type DataProfile, intervalMonths, isInScope, scopeStatement } from '../server/vendors/risk';

const profile = (p: Partial<DataProfile>): DataProfile => ({ piElements: [], maResidents: 'yes', recordVolume: 'none', accessModes: [], ...p });

describe('inherent risk rules', () => {
  test('When the vendor can reach no personal information, then it is out of scope with tier none', () => {
    const p = profile({});
    assert.equal(isInScope(p), false);
    assert.equal(computeTier(p).tier, 'none');
    assert.match(scopeStatement(p), /^Not a service provider under 201 CMR 17\.02/);
  });

  test('When the records concern no Massachusetts residents, then it is out of scope; unknown counts as in scope', () => {
    const base = { piElements: ['ssn' as const], recordVolume: '1k_10k' as const, accessModes: ['stores' as const] };
    assert.equal(isInScope(profile({ ...base, maResidents: 'no' })), false);
    assert.match(scopeStatement(profile({ ...base, maResidents: 'no' })), /concerns no Massachusetts residents/);
    assert.equal(isInScope(profile({ ...base, maResidents: 'unknown' })), true);
    assert.match(scopeStatement(profile({ ...base, maResidents: 'unknown' })), /treated as concerning Massachusetts residents/);
    assert.match(scopeStatement(profile({ ...base })), /A service provider under 201 CMR 17\.02.*17\.03\(2\)\(f\)/);
  });

  test('When the profile varies, then each tier rule applies in order', () => {
    const cases: [Partial<DataProfile>, string][] = [
      [{ piElements: ['ssn'], recordVolume: 'over_1m', accessModes: ['stores'] }, 'critical'],
      [{ piElements: ['financialAccount'], recordVolume: '100k_1m', accessModes: ['processes'] }, 'critical'],
      [{ piElements: ['biometric'], recordVolume: 'under_1k', accessModes: ['stores'] }, 'high'],
      [{ piElements: ['driversLicense'], recordVolume: 'over_1m', accessModes: ['views'] }, 'high'],
      [{ piElements: ['ssn'], recordVolume: '100k_1m', accessModes: ['transmits'] }, 'high'],
      [{ piElements: ['driversLicense'], recordVolume: '10k_100k', accessModes: ['stores'] }, 'medium'],
      [{ piElements: ['ssn'], recordVolume: '1k_10k', accessModes: ['transmits'] }, 'medium'],
      [{ piElements: ['ssn'], recordVolume: '1k_10k', accessModes: ['paper'] }, 'medium'],
      [{ piElements: ['ssn'], recordVolume: '1k_10k', accessModes: ['views'] }, 'low'],
    ];
    for (const [p, tier] of cases) {
      const result = computeTier(profile(p));
      assert.equal(result.tier, tier, JSON.stringify(p));
      assert.ok(result.reasons.length > 0);
    }
    assert.deepEqual(computeTier(profile({ piElements: ['ssn'], recordVolume: 'over_1m', accessModes: ['stores'] })).reasons, [
      'Stores or processes Social Security numbers.',
      'Volume: more than 1 million records.',
    ]);
  });

  test('When intervals apply, then in-scope vendors never exceed 12 months and tier none needs none', () => {
    assert.equal(intervalMonths(DEFAULT_INTERVALS, 'critical', true), 6);
    assert.equal(intervalMonths(DEFAULT_INTERVALS, 'high', true), 12);
    assert.equal(intervalMonths(DEFAULT_INTERVALS, 'low', true), 12);
    assert.equal(intervalMonths(DEFAULT_INTERVALS, 'low', false), 24);
    assert.equal(intervalMonths(DEFAULT_INTERVALS, 'none', false), null);
    assert.equal(intervalMonths(DEFAULT_INTERVALS, 'none', true), 12);
    assert.equal(intervalMonths({ ...DEFAULT_INTERVALS, high: 18 }, 'high', true), 12);
  });

  test('When months are added, then month ends clamp and years roll over', () => {
    assert.equal(addMonths('2026-01-31', 1), '2026-02-28');
    assert.equal(addMonths('2028-01-31', 1), '2028-02-29');
    assert.equal(addMonths('2026-08-15', 6), '2027-02-15');
    assert.equal(addMonths('2026-12-01', 12), '2027-12-01');
  });

  test('When a cycle is compared with today, then overdue, due soon, current and never are told apart', () => {
    const v = { inScope: true, tier: 'high' as const };
    assert.equal(assessmentState({ ...v, lastAssessedOn: null, nextReassessmentOn: null }, '2026-06-01'), 'never');
    assert.equal(assessmentState({ ...v, lastAssessedOn: '2025-05-01', nextReassessmentOn: '2026-05-01' }, '2026-06-01'), 'overdue');
    assert.equal(assessmentState({ ...v, lastAssessedOn: '2025-06-20', nextReassessmentOn: '2026-06-20' }, '2026-06-01'), 'due_soon');
    assert.equal(assessmentState({ ...v, lastAssessedOn: '2026-01-01', nextReassessmentOn: '2027-01-01' }, '2026-06-01'), 'current');
    assert.equal(assessmentState({ inScope: false, tier: 'none', lastAssessedOn: null, nextReassessmentOn: null }, '2026-06-01'), 'not_required');
  });
});
