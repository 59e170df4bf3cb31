/** DI tokens (Symbols, never strings). */
export const PLATFORM = Symbol('PLATFORM');
