// Text from outside as every store can hold it: PostgreSQL refuses NUL in text and unpaired UTF-16
// surrogates in JSON, so both become U+FFFD (the rest is kept as it came).

// an unpaired surrogate (possible in JSON text and query strings) is not a character at all
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** The text with NUL and unpaired surrogates replaced by U+FFFD. */
export function storable(text: string): string {
  UNSTORABLE.lastIndex = 0
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE, '\ufffd') : text
}
