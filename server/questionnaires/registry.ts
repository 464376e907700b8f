import { type LoadedTemplate, loadTemplates, type Template } from './template';

/** The templates found in questionnaires/ at start (and on reload), valid and invalid alike. */
export class TemplateRegistry {
  private loaded: LoadedTemplate[] = [];

  constructor(private readonly dir: string) {
    this.reload();
  }

  /** Reads the folder again (an admin action); sent questionnaires keep their snapshots. */
  reload(): LoadedTemplate[] {
    this.loaded = loadTemplates(this.dir);
    return this.loaded;
  }

  list(): LoadedTemplate[] {
    return this.loaded;
  }

  /** A valid template by id, or null (unknown or invalid: it cannot be sent). */
  get(id: string): (LoadedTemplate & { template: Template; contentHash: string }) | null {
    const t = this.loaded.find((l) => l.id === id && l.valid);
    return t && t.template && t.contentHash ? (t as LoadedTemplate & { template: Template; contentHash: string }) : null;
  }

  find(id: string): LoadedTemplate | null {
    return this.loaded.find((l) => l.id === id) ?? null;
  }
}
