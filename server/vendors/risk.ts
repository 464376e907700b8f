/**
 * The data profile of a vendor and what follows from it: whether it is a service provider under
 * 201 CMR 17.02 (in scope), its inherent risk tier with the reasons, and how often it must be
 * reassessed. Every rule lives here; README.md ("Inherent risk tiers") describes them for users.
 */

export const PI_ELEMENTS = ['ssn', 'driversLicense', 'financialAccount', 'biometric'] as const;
export type PiElement = (typeof PI_ELEMENTS)[number];

export const PI_ELEMENT_LABELS: Record<PiElement, string> = {
  ssn: 'Social Security numbers',
  driversLicense: "Driver's licence or state ID numbers",
  financialAccount: 'Financial account or payment card numbers',
  biometric: 'Biometric data',
};

/** The same elements as they read inside a sentence. */
export const PI_ELEMENT_PHRASES: Record<PiElement, string> = {
  ssn: 'Social Security numbers',
  driversLicense: "driver's licence or state ID numbers",
  financialAccount: 'financial account or payment card numbers',
  biometric: 'biometric data',
};

export const ACCESS_MODES = ['stores', 'processes', 'transmits', 'views', 'paper'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

export const ACCESS_MODE_LABELS: Record<AccessMode, string> = {
  stores: 'Stores it',
  processes: 'Processes it',
  transmits: 'Transmits it',
  views: 'Can view it',
  paper: 'Handles paper records',
};

export const MA_RESIDENTS = ['yes', 'no', 'unknown'] as const;
export type MaResidents = (typeof MA_RESIDENTS)[number];

export const VOLUME_BANDS = ['none', 'under_1k', '1k_10k', '10k_100k', '100k_1m', 'over_1m'] as const;
export type VolumeBand = (typeof VOLUME_BANDS)[number];

export const VOLUME_LABELS: Record<VolumeBand, string> = {
  none: 'None',
  under_1k: 'Fewer than 1,000',
  '1k_10k': '1,000 – 10,000',
  '10k_100k': '10,000 – 100,000',
  '100k_1m': '100,000 – 1 million',
  over_1m: 'More than 1 million',
};

export const TIERS = ['critical', 'high', 'medium', 'low', 'none'] as const;
export type Tier = (typeof TIERS)[number];

export const TIER_LABELS: Record<Tier, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', none: 'None' };

export interface DataProfile {
  piElements: PiElement[];
  maResidents: MaResidents;
  recordVolume: VolumeBand;
  accessModes: AccessMode[];
}

/** Personal information under 17.02 / c.93H §1 (name plus one of these); biometric data from c.93I. */
const HIGHLY_SENSITIVE: PiElement[] = ['ssn', 'financialAccount', 'biometric'];
const LARGE_VOLUME: VolumeBand[] = ['100k_1m', 'over_1m'];

/**
 * In scope: the vendor can reach at least one personal-information element about Massachusetts
 * residents (or nobody knows whether the records concern them), so it is a service provider under
 * 201 CMR 17.02 and must be overseen under 17.03(2)(f).
 */
export function isInScope(p: DataProfile): boolean {
  return p.piElements.length > 0 && p.maResidents !== 'no';
}

/** The plain-language statement shown on the vendor page. */
export function scopeStatement(p: DataProfile): string {
  if (p.piElements.length === 0) {
    return 'Not a service provider under 201 CMR 17.02: the data profile records no access to personal information.';
  }
  if (p.maResidents === 'no') {
    return 'Not in scope of 201 CMR 17.00: the personal information it can reach concerns no Massachusetts residents.';
  }
  const what = p.piElements.map((e) => PI_ELEMENT_PHRASES[e]).join(', ');
  const unsure = p.maResidents === 'unknown' ? ' (treated as concerning Massachusetts residents until known otherwise)' : '';
  return `A service provider under 201 CMR 17.02: it has access to personal information (${what})${unsure}, so it must be overseen under 201 CMR 17.03(2)(f).`;
}

export interface TierResult {
  tier: Tier;
  reasons: string[];
}

/**
 * The inherent risk tier, from the first rule that matches (most severe first):
 * - none: not in scope;
 * - critical: stores or processes highly sensitive elements (SSN, financial account, biometric) for 100,000 records or more;
 * - high: stores or processes highly sensitive elements at a smaller volume, or any element at 100,000 records or more;
 * - medium: stores, processes or transmits other elements, or handles paper records;
 * - low: can only view personal information.
 */
export function computeTier(p: DataProfile): TierResult {
  if (!isInScope(p)) return { tier: 'none', reasons: ['No access to personal information of Massachusetts residents.'] };
  const sensitive = p.piElements.filter((e) => HIGHLY_SENSITIVE.includes(e));
  const holds = p.accessModes.includes('stores') || p.accessModes.includes('processes');
  const large = LARGE_VOLUME.includes(p.recordVolume);
  const sensitiveText = sensitive.map((e) => PI_ELEMENT_PHRASES[e]).join(', ');
  const volumeText = `${VOLUME_LABELS[p.recordVolume].toLowerCase()} records`;
  if (holds && sensitive.length > 0 && large) {
    return { tier: 'critical', reasons: [`Stores or processes ${sensitiveText}.`, `Volume: ${volumeText}.`] };
  }
  if (holds && sensitive.length > 0) {
    return { tier: 'high', reasons: [`Stores or processes ${sensitiveText}.`, `Volume below 100,000 records (${volumeText}).`] };
  }
  if (large) {
    return { tier: 'high', reasons: [`Access to personal information at a volume of ${volumeText}.`] };
  }
  if (holds || p.accessModes.includes('transmits') || p.accessModes.includes('paper')) {
    const modes = p.accessModes.filter((m) => m !== 'views').map((m) => ACCESS_MODE_LABELS[m].toLowerCase());
    return { tier: 'medium', reasons: [`Personal information: ${modes.join(', ') || 'handled'}.`, `Volume: ${volumeText}.`] };
  }
  return { tier: 'low', reasons: ['Can only view personal information; does not store, process or transmit it.'] };
}

/** Months between assessments per tier; `null` means no reassessment. */
export type ReassessmentIntervals = Record<Tier, number | null>;

export const DEFAULT_INTERVALS: ReassessmentIntervals = { critical: 6, high: 12, medium: 12, low: 24, none: null };

/** At least yearly (17.03(2)(i) reviews safeguards at least annually): the cap for in-scope vendors. */
export const IN_SCOPE_MAX_MONTHS = 12;

/** The interval that applies to a vendor: its tier's, capped at 12 months when it is in scope. */
export function intervalMonths(intervals: ReassessmentIntervals, tier: Tier, inScope: boolean): number | null {
  const months = intervals[tier];
  if (months === null) return inScope ? IN_SCOPE_MAX_MONTHS : null;
  return inScope ? Math.min(months, IN_SCOPE_MAX_MONTHS) : months;
}

/** Adds calendar months to a YYYY-MM-DD date, keeping the day or falling back to the month's last day. */
export function addMonths(isoDate: string, months: number): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const targetMonth = m - 1 + months;
  const year = y + Math.floor(targetMonth / 12);
  const month = ((targetMonth % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month, Math.min(d, lastDay))).toISOString().slice(0, 10);
}

/** The next reassessment date, or null when there is none yet (never assessed) or none needed. */
export function nextReassessment(lastAssessedOn: string | null, months: number | null): string | null {
  if (!lastAssessedOn || months === null) return null;
  return addMonths(lastAssessedOn, months);
}

/** Where a vendor stands against its assessment cycle on a given day. */
export type AssessmentState = 'not_required' | 'never' | 'overdue' | 'due_soon' | 'current';
export const DUE_SOON_DAYS = 30;

export function assessmentState(v: { inScope: boolean; tier: Tier; lastAssessedOn: string | null; nextReassessmentOn: string | null }, today: string): AssessmentState {
  if (!v.inScope && v.tier === 'none') return 'not_required';
  if (!v.lastAssessedOn) return 'never';
  if (!v.nextReassessmentOn) return 'not_required';
  if (v.nextReassessmentOn < today) return 'overdue';
  const soon = new Date(Date.parse(`${today}T00:00:00Z`) + DUE_SOON_DAYS * 86_400_000).toISOString().slice(0, 10);
  return v.nextReassessmentOn <= soon ? 'due_soon' : 'current';
}

export const ASSESSMENT_STATE_LABELS: Record<AssessmentState, string> = {
  not_required: 'Not required',
  never: 'Never assessed',
  overdue: 'Overdue',
  due_soon: 'Due soon',
  current: 'Current',
};

export const STATUSES = ['prospect', 'onboarding', 'active', 'offboarding', 'terminated'] as const;
export type VendorStatus = (typeof STATUSES)[number];

export const STATUS_LABELS: Record<VendorStatus, string> = {
  prospect: 'Prospect',
  onboarding: 'Onboarding',
  active: 'Active',
  offboarding: 'Offboarding',
  terminated: 'Terminated',
};

/** The pipeline: which status may follow which. Every move needs a reason and is audited. */
export const TRANSITIONS: Record<VendorStatus, VendorStatus[]> = {
  prospect: ['onboarding', 'terminated'],
  onboarding: ['active', 'prospect', 'terminated'],
  active: ['offboarding'],
  offboarding: ['terminated', 'active'],
  terminated: ['prospect'],
};
