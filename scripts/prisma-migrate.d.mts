export declare const DEFAULT_DATABASE_URL: string;
export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}
export declare function listMigrations(dir?: string): MigrationFile[];
export declare function migrate(options: { url: string; log?: (line: string) => void; dir?: string }): Promise<string[]>;
