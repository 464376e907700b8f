import type { AmendmentStatus, ContractStatus, ContractType } from './entities';

export const TYPE_LABELS: Record<ContractType, string> = {
  msa: 'Master services agreement (MSA)',
  dpa: 'Data processing agreement (DPA)',
  sow: 'Statement of work (SOW)',
  baa: 'Business associate agreement (BAA)',
  nda: 'Non-disclosure agreement (NDA)',
  other: 'Other',
};

/** Short forms for tables. */
export const TYPE_SHORT: Record<ContractType, string> = { msa: 'MSA', dpa: 'DPA', sow: 'SOW', baa: 'BAA', nda: 'NDA', other: 'Other' };

export const CONTRACT_STATUS_LABELS: Record<ContractStatus, string> = { draft: 'Draft', active: 'Active', expired: 'Expired', terminated: 'Terminated' };

export const AMENDMENT_STATUS_LABELS: Record<AmendmentStatus, string> = {
  drafted: 'Drafted',
  sent: 'Sent to vendor',
  negotiating: 'In negotiation',
  executed: 'Executed',
  refused: 'Refused',
  withdrawn: 'Withdrawn',
};

/** The last day a contract could be entered into and still be covered by the rule's transition (17.03(2)(f)). */
export const LEGACY_SIGNED_BY = '2010-03-01';

/** The note a legacy contract carries. */
export const LEGACY_NOTE =
  'Entered into no later than March 1, 2010: under 201 CMR 17.03(2)(f) such a contract was deemed compliant without the clause binding the vendor to protect personal information only until March 1, 2012, when that grandfathering ended. It needs the clause like any other contract and is a likely candidate for amendment.';

/** Days before the notice deadline that a contract's renewal or expiry starts to need attention. */
export const NOTICE_LEAD_DAYS = 30;
