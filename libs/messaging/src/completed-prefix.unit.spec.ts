import { CompletedPrefix } from './completed-prefix';

describe('CompletedPrefix', () => {
  it('given out-of-order completions, when a gap closes, then the prefix jumps past everything done', () => {
    const prefix = new CompletedPrefix(['10', '11', '12', '13']);
    expect(prefix.complete('12')).toBeNull();
    expect(prefix.complete('11')).toBeNull();
    expect(prefix.complete('10')).toBe('12');
    expect(prefix.allDone).toBe(false);
    expect(prefix.complete('13')).toBe('13');
    expect(prefix.allDone).toBe(true);
  });

  it('given in-order completions, each one extends the prefix', () => {
    const prefix = new CompletedPrefix(['5', '6']);
    expect(prefix.complete('5')).toBe('5');
    expect(prefix.complete('6')).toBe('6');
  });
});
