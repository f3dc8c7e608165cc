import { DomainError } from './errors.js';

// Node 20 has String.prototype.isWellFormed (ES2024); the project's `lib` is ES2023.
declare global {
  interface String {
    isWellFormed(): boolean;
  }
}

/**
 * What stored text may not contain: control characters (C0, DEL, C1: NUL, newlines, escapes),
 * surrogates (a lone one cannot be encoded as UTF-8, so JSON and protobuf clients would each
 * see something else), line/paragraph separators, and the bidi embeddings, overrides and isolates
 * that make one name display as another. A regular-expression character class body, for both
 * the domain check and the JSON schemas (ajv compiles patterns with the `u` flag).
 */
export const UNSAFE_CHARACTERS = '\\p{Cc}\\p{Cs}\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069';
const UNSAFE = new RegExp(`[${UNSAFE_CHARACTERS}]`, 'u');

/** JSON-schema `pattern` of safe text (see UNSAFE_CHARACTERS). */
export const SAFE_TEXT_PATTERN = `^[^${UNSAFE_CHARACTERS}]*$`;

export interface TextLimits {
  /** In Unicode code points, as JSON schema's maxLength counts. */
  maxLength: number;
  minLength?: number;
}

/** Length in code points (a surrogate pair is one character, as in JSON schema). */
function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/**
 * The string to store, or a DomainError (invalidRequest, `code`) saying what is wrong with it:
 * not a string, ill-formed Unicode, an unsafe character, or a length out of bounds.
 */
export function safeText(value: unknown, where: string, limits: TextLimits, code: string): string {
  if (typeof value !== 'string') throw new DomainError('invalidRequest', code, `${where} must be a string`);
  // A UTF-16 length over twice the bound is over it in code points too; no need to count them.
  const length = value.length > limits.maxLength * 2 ? Infinity : codePoints(value);
  if (length > limits.maxLength) throw new DomainError('invalidRequest', code, `${where} must be at most ${limits.maxLength} characters`);
  if (length < (limits.minLength ?? 0)) throw new DomainError('invalidRequest', code, `${where} must be at least ${limits.minLength} characters`);
  if (!value.isWellFormed()) throw new DomainError('invalidRequest', code, `${where} is not well-formed Unicode (lone surrogate)`);
  if (UNSAFE.test(value)) throw new DomainError('invalidRequest', code, `${where} contains a control, separator or bidi-override character`);
  return value;
}

/**
 * An opaque string the caller gets back as it sent it (Graph clientContext): only its type and
 * length (code points) are checked. JSON encodes any string, a lone surrogate included.
 */
export function opaqueText(value: unknown, where: string, maxLength: number, code: string): string {
  if (typeof value !== 'string') throw new DomainError('invalidRequest', code, `${where} must be a string`);
  if (value.length > maxLength * 2 || codePoints(value) > maxLength) {
    throw new DomainError('invalidRequest', code, `${where} must be at most ${maxLength} characters`);
  }
  return value;
}
