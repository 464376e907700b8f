import type { Role } from '../accounts/entities';
import type { Context } from '../context';
import type { Vendor, VendorContact } from '../vendors/entities';
import { certificationRow } from './present';

/**
 * What the vendor page shows about written certifications: the vendor's certifications, whether
 * the role may request one, and where the disposal certificate of an offboarding stands (which also
 * decides whether the status form offers the administrator's override).
 */
export async function vendorCertificationPanel(ctx: Context, v: Vendor, role: Role, contacts: VendorContact[]) {
  const service = ctx.certifications;
  const gated = v.status === 'offboarding' && v.inScope;
  const all = await service.listRowsForVendor(v.id);
  // The disposal certificate's state is shown, and decides anything, only while the gate applies.
  const disposal = gated ? await service.disposalState(v.id, undefined, all) : { signed: null, open: null };
  const today = service.today();
  const names = new Map([[v.id, v.legalName]]);
  return {
    rows: all.map((c) => certificationRow(c, names, today)),
    canRequest: (role === 'admin' || role === 'legal') && v.status !== 'terminated',
    disposal: {
      /** Termination waits for a signed disposal certificate. */
      gated,
      signedId: disposal.signed?.id ?? null,
      openId: disposal.open?.id ?? null,
      hasSecurityContact: contacts.some((c) => c.vendorId === v.id && c.isSecurityContact),
      templateId: ctx.certificationTemplates.forPurpose('disposal')?.id ?? null,
      /** The status form offers an administrator the override. */
      overridable: gated && !disposal.signed && role === 'admin',
    },
  };
}

export type VendorCertificationPanel = Awaited<ReturnType<typeof vendorCertificationPanel>>;
