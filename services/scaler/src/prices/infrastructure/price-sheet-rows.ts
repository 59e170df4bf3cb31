import type { PriceSheetPublished } from '@flotilla/contracts';
import type { Pool } from 'pg';
import type { PriceSheetRows } from '../ports';

export class PostgresPriceSheetRows implements PriceSheetRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async load(): Promise<PriceSheetPublished | null> {
    const { rows } = await this.pool.query(`SELECT sheet_id, currency, sheet, published_at FROM ${this.schema}.price_sheet`);
    if (rows.length === 0) return null;
    const row = rows[0];
    return { sheetId: row.sheet_id as string, currency: row.currency as string, sheet: JSON.stringify(row.sheet), publishedAt: Number(row.published_at) };
  }

  async saveIfNewer(published: PriceSheetPublished): Promise<boolean> {
    // One row; a redelivered or an older sheet (a rebuild replaying the topic) leaves the newer one.
    const { rowCount } = await this.pool.query(
      `INSERT INTO ${this.schema}.price_sheet (only_row, sheet_id, currency, sheet, published_at) VALUES (true, $1, $2, $3, $4)
       ON CONFLICT (only_row) DO UPDATE SET sheet_id = EXCLUDED.sheet_id, currency = EXCLUDED.currency, sheet = EXCLUDED.sheet, published_at = EXCLUDED.published_at
       WHERE ${this.schema}.price_sheet.published_at < EXCLUDED.published_at`,
      [published.sheetId, published.currency, published.sheet, published.publishedAt],
    );
    return (rowCount ?? 0) > 0;
  }
}
