/**
 * Option checks shared by the public classes. Every option is read as an OWN property (an inherited
 * `toString` or a polluted `Object.prototype` is never taken for a caller's option); wrong JavaScript
 * types are TypeErrors, numbers out of range are RangeErrors (Node's own convention:
 * ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE are TypeErrors, ERR_OUT_OF_RANGE a RangeError).
 * @packageDocumentation
 */

/** A bag of options: undefined (none) or a plain object. */
export function optionsObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${what} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** The option's own value, or undefined when the object does not itself hold it. */
export function own(options: Record<string, unknown>, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(options, name) ? options[name] : undefined;
}

/**
 * An optional string option. `cString`: it becomes a NUL-terminated C string (pszPackage,
 * pszPrincipal, pszTargetName), so an embedded NUL, which would silently cut it short, is refused.
 */
export function optionalString(options: Record<string, unknown>, name: string, what: string, cString = false): string | undefined {
  const v = own(options, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`);
  if (cString && v.includes('\0')) throw new TypeError(`${what} must not contain NUL characters`);
  return v;
}

/** An optional boolean option. */
export function optionalBoolean(options: Record<string, unknown>, name: string, what: string): boolean | undefined {
  const v = own(options, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new TypeError(`${what} must be true or false`);
  return v;
}

/** One of the own keys of `choices` (never an inherited name such as '__proto__' or 'toString'). */
export function choice<T extends string>(value: unknown, choices: Readonly<Record<T, unknown>>, what: string): T {
  if (typeof value !== 'string' || !Object.prototype.hasOwnProperty.call(choices, value)) {
    throw new TypeError(`${what} must be one of ${Object.keys(choices).map((k) => `'${k}'`).join(', ')}`);
  }
  return value as T;
}

/**
 * A ULONG of flag bits (fContextReq): an integer 0..0xFFFFFFFF using only the bits in `allowed`
 * (the OR of the side's ISC_REQ_* / ASC_REQ_* values from sspi.h).
 */
export function flags(value: unknown, allowed: number, what: string, names: string): number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number of ${names} bits`);
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} must be an integer from 0 to 0xFFFFFFFF (${names} bits), not ${value}`);
  }
  const unknown = (value & ~allowed) >>> 0;
  if (unknown !== 0) throw new RangeError(`${what} has bits that are not ${names} flags: 0x${unknown.toString(16).toUpperCase()}`);
  return value >>> 0;
}

/** The OR of a numeric enum's values (its flag mask). */
export function maskOf(e: Record<string, string | number>): number {
  let mask = 0;
  for (const v of Object.values(e)) if (typeof v === 'number') mask |= v;
  return mask >>> 0;
}
