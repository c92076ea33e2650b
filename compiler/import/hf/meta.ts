// What every importer is told besides the config: the model's name, where it came from, notes for the header.
export interface ImportMeta {
  name: string;
  source: string;
  notes: string[];
}
