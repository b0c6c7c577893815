/**
 * `Symbol.dispose` where the runtime has it (Node >= 18.18 / 20.4), else the registered symbol that
 * TypeScript's `using` down-level emit and the polyfills use, so `using cred = ...` works on every
 * supported Node.
 */
export const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);
