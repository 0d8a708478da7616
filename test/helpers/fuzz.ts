/**
 * What the fuzz tests (test/reliability/file_fuzz.test.ts, options_fuzz.test.ts) ask of a rejection,
 * in one place: a plain `Error` (no TypeError, RangeError or SyntaxError escaping from inside), with
 * none of the text internal errors put into messages, of a length a person can read, naming what was
 * wrong. Each test adds what its messages must name.
 */

/** Text that internal errors put into messages; none may reach a message of ours. */
export const INTERNAL_ERROR_TEXT =
  /Cannot read propert|Cannot convert|Cannot destructure|Cannot use 'in'|Cannot create property|is not a function|is not iterable|is not an object|is not defined|is not a constructor|Maximum call stack|too much recursion|undefined is not|null is not|Invalid array length|Invalid typed array length|Array buffer allocation failed|out of memory/i;

/** The longest message a rejection may have. */
export const MAX_MESSAGE_LENGTH = 2000;

/**
 * Throws (prefixed with `what`, the input that was tried) unless `e` is a plain Error, free of internal
 * error text, at most MAX_MESSAGE_LENGTH long, and `names(message)` holds (it names the file or option:
 * `naming` says which, for the failure).
 */
export function checkPlainRejection(
  e: unknown,
  what: string,
  names: (message: string) => boolean,
  naming: string,
): void {
  const fail = (why: string) => {
    throw new Error(`${what}: ${why}`);
  };
  if (!(e instanceof Error)) fail(`threw a non-Error: ${typeof e === 'symbol' ? e.toString() : String(e)}`);
  const error = e as Error;
  const shown = error.message.slice(0, 300);
  if (error.constructor !== Error) fail(`threw a ${error.constructor.name} from inside: ${shown}`);
  if (INTERNAL_ERROR_TEXT.test(error.message)) fail(`an internal error's text in the message: ${shown}`);
  if (error.message.length > MAX_MESSAGE_LENGTH) fail(`a message of ${error.message.length} characters: ${shown}`);
  if (!names(error.message)) fail(`the message does not name ${naming}: ${shown}`);
}

/** What `call` throws (undefined when it returns, which checkPlainRejection then reports). */
export function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Sets an own property, even one named "__proto__" (assignment would set the prototype). */
export function setOwn(object: object, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}
