import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PRICE_SHEET } from '@flotilla/contracts';
import { loadPriceSheet } from './price-sheet.loader';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'price-sheet-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, content: unknown) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};

describe('price sheet loader', () => {
  it('reads the shipped sheet, whose default prices are the documented ones', () => {
    const sheet = loadPriceSheet('PRICE_SHEET_FILE', path.resolve(__dirname, '../../../config/price-sheet.json'));
    expect(sheet.default).toEqual(DEFAULT_PRICE_SHEET.default);
    expect(sheet.agentTypes.code_gen).toEqual({ perUnitMicros: { tokens: 2 } });
  });

  it.each([
    ['a price in dollars rather than micro-units', { ...DEFAULT_PRICE_SHEET, default: { ...DEFAULT_PRICE_SHEET.default, cpuCoreHourMicros: 0.05 } }, 'default.cpuCoreHourMicros must be a whole number of micro-units'],
    ['a negative unit price', { ...DEFAULT_PRICE_SHEET, agentTypes: { code_gen: { perUnitMicros: { tokens: -1 } } } }, 'agentTypes.code_gen.perUnitMicros.tokens must not be negative'],
    ['a misspelt field', { ...DEFAULT_PRICE_SHEET, agentTypes: { review: { cpuCoreHour: 5 } } }, "agentTypes.review Unrecognized key(s) in object: 'cpuCoreHour'"],
    ['a currency that is not a code', { ...DEFAULT_PRICE_SHEET, currency: 'dollars' }, 'currency must be an ISO 4217 code such as USD'],
    ['a missing request', { ...DEFAULT_PRICE_SHEET, default: { ...DEFAULT_PRICE_SHEET.default, requested: undefined } }, 'default.requested Required'],
  ])('refuses %s, naming the variable and the field', (name, sheet, problem) => {
    const file = write(`${name.replace(/\W+/g, '-')}.json`, sheet);
    expect(() => loadPriceSheet('PRICE_SHEET_FILE', file)).toThrow(`PRICE_SHEET_FILE: invalid price sheet ${file}: ${problem}`);
  });

  it('refuses a file that is not JSON, or not there', () => {
    expect(() => loadPriceSheet('PRICE_SHEET_FILE', write('broken.json', '{ "currency": '))).toThrow(/^PRICE_SHEET_FILE: cannot read the price sheet .*broken\.json: /);
    expect(() => loadPriceSheet('PRICE_SHEET_FILE', path.join(dir, 'missing.json'))).toThrow(/^PRICE_SHEET_FILE: cannot read the price sheet .*missing\.json: ENOENT/);
  });
});
