import type { User } from '../accounts/entities';
import type { Vendor, VendorContact, VendorSubprocessor } from './entities';
import type { VendorListRow } from './service';
import {
  ACCESS_MODE_LABELS,
  assessmentState,
  ASSESSMENT_STATE_LABELS,
  computeTier,
  intervalMonths,
  PI_ELEMENT_LABELS,
  type ReassessmentIntervals,
  scopeStatement,
  STATUS_LABELS,
  TIER_LABELS,
  VOLUME_LABELS,
} from './risk';

/** A vendor as a list row shows it. */
export function vendorRow(v: VendorListRow, owners: Map<number, Pick<User, 'name'>>, today: string) {
  const state = assessmentState(v, today);
  return {
    id: v.id,
    legalName: v.legalName,
    tradingName: v.tradingName,
    status: v.status,
    statusLabel: STATUS_LABELS[v.status],
    tier: v.tier,
    tierLabel: TIER_LABELS[v.tier],
    overridden: v.tierOverride !== null,
    inScope: v.inScope,
    assessment: state,
    assessmentLabel: ASSESSMENT_STATE_LABELS[state],
    lastAssessedOn: v.lastAssessedOn,
    nextReassessmentOn: v.nextReassessmentOn,
    lastScore: v.lastScore,
    residualRating: v.residualRating,
    ownerName: v.businessOwnerId ? (owners.get(v.businessOwnerId)?.name ?? '') : '',
  };
}

/**
 * Everything the vendor page shows, with labels and the reasons behind the tier. `names` holds the
 * names of the business owner and of whoever overrode the tier (null when unknown).
 */
export function vendorDetail(v: Vendor, names: { owner: string | null; tierOverrideBy: string | null }, intervals: ReassessmentIntervals, today: string) {
  const state = assessmentState(v, today);
  const months = intervalMonths(intervals, v.tier, v.inScope);
  return {
    ...vendorRow(v, v.businessOwnerId !== null && names.owner !== null ? new Map([[v.businessOwnerId, { name: names.owner }]]) : new Map(), today),
    website: v.website,
    services: v.services,
    notes: v.notes,
    businessOwnerId: v.businessOwnerId,
    piElements: v.piElements.map((e) => PI_ELEMENT_LABELS[e]),
    maResidents: v.maResidents,
    recordVolumeLabel: VOLUME_LABELS[v.recordVolume],
    accessModes: v.accessModes.map((a) => ACCESS_MODE_LABELS[a]),
    dataLocation: v.dataLocation,
    scopeStatement: scopeStatement(v),
    computedTier: v.computedTier,
    computedTierLabel: TIER_LABELS[v.computedTier],
    tierReasons: computeTier(v).reasons,
    tierOverrideReason: v.tierOverrideReason,
    tierOverrideBy: names.tierOverrideBy,
    tierOverrideAt: v.tierOverrideAt,
    intervalMonths: months,
    reassessmentStart: v.reassessmentStart,
    lastScore: v.lastScore,
    residualRating: v.residualRating,
    lastDecision: v.lastDecision,
    assessment: state,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
  };
}

/** The API's representation of a vendor. */
export function vendorJson(v: Vendor, contacts?: VendorContact[], subprocessors?: VendorSubprocessor[]) {
  return {
    id: v.id,
    legalName: v.legalName,
    tradingName: v.tradingName,
    website: v.website,
    services: v.services,
    businessOwnerId: v.businessOwnerId,
    status: v.status,
    notes: v.notes,
    piElements: v.piElements,
    maResidents: v.maResidents,
    recordVolume: v.recordVolume,
    accessModes: v.accessModes,
    dataLocation: v.dataLocation,
    inScope: v.inScope,
    computedTier: v.computedTier,
    tier: v.tier,
    tierOverride: v.tierOverride,
    tierOverrideReason: v.tierOverrideReason,
    lastAssessedOn: v.lastAssessedOn,
    nextReassessmentOn: v.nextReassessmentOn,
    reassessmentStart: v.reassessmentStart,
    lastScore: v.lastScore,
    residualRating: v.residualRating,
    lastDecision: v.lastDecision,
    createdAt: v.createdAt.toISOString(),
    updatedAt: v.updatedAt.toISOString(),
    ...(contacts ? { contacts: contacts.map(contactJson) } : {}),
    ...(subprocessors ? { subprocessors: subprocessors.map((s) => ({ id: s.id, name: s.name, purpose: s.purpose, location: s.location })) } : {}),
  };
}

export function contactJson(c: VendorContact) {
  return { id: c.id, name: c.name, email: c.email, role: c.role, isSecurityContact: c.isSecurityContact };
}
