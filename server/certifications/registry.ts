import path from 'node:path';
import { ROOT_DIR } from '../paths';
import { type CertificationPurpose, type CertificationTemplate, type LoadedCertificationTemplate, loadCertificationTemplates } from './template';

/** The folder of the shipped certification templates. */
export const CERTIFICATIONS_DIR = path.join(ROOT_DIR, 'certifications');

export type ValidCertificationTemplate = LoadedCertificationTemplate & { template: CertificationTemplate; contentHash: string };

/** The certification templates found at start (and on reload), valid and invalid alike. */
export class CertificationTemplateRegistry {
  private loaded: LoadedCertificationTemplate[] = [];

  constructor(private readonly dir: string = CERTIFICATIONS_DIR) {
    this.reload();
  }

  /** Reads the folder again (an admin action); requested certifications keep their text. */
  reload(): LoadedCertificationTemplate[] {
    this.loaded = loadCertificationTemplates(this.dir);
    return this.loaded;
  }

  list(): LoadedCertificationTemplate[] {
    return this.loaded;
  }

  /** A valid template by id, or null (unknown or invalid: it cannot be requested). */
  get(id: string): ValidCertificationTemplate | null {
    const t = this.loaded.find((l) => l.id === id && l.valid);
    return t && t.template && t.contentHash ? (t as ValidCertificationTemplate) : null;
  }

  /** The valid template for a purpose (the highest version if several), or null. */
  forPurpose(purpose: CertificationPurpose): ValidCertificationTemplate | null {
    const all = this.loaded.filter((l): l is ValidCertificationTemplate => l.valid && l.template !== null && l.contentHash !== null && l.template.purpose === purpose);
    return all.sort((a, b) => b.template.version - a.template.version || a.id.localeCompare(b.id))[0] ?? null;
  }

  find(id: string): LoadedCertificationTemplate | null {
    return this.loaded.find((l) => l.id === id) ?? null;
  }
}
