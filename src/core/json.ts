// JSON values from outside (postback payloads, webhook responses) may nest as deep as their size allows;
// V8's JSON.stringify and any recursive walk overflow the stack on a few thousand levels. These helpers
// never recurse.

/** How deep a payload may nest objects and arrays before it is refused (postbacks) or left unparsed (responses). */
export const MAX_NESTING = 32

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** The deepest nesting of objects and arrays in `value` (a scalar is 0, `{}` is 1), counted to `limit + 1` at most. */
export function nestingDepth(value: unknown, limit = MAX_NESTING): number {
  let deepest = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length) {
    const [v, depth] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    const here = depth + 1
    if (here > deepest) deepest = here
    if (deepest > limit) return deepest
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, here])
  }
  return deepest
}

/** Deep enough for JSON.stringify's recursion wherever it is called from. */
const STRINGIFY_SAFE_DEPTH = 256

/** JSON text of a JSON value however deep it nests: JSON.stringify when that is safe, else an explicit stack. */
export function jsonText(value: unknown): string {
  if (nestingDepth(value, STRINGIFY_SAFE_DEPTH) <= STRINGIFY_SAFE_DEPTH) return JSON.stringify(value)
  let out = ''
  // each frame: the container, its keys (objects) and the next index
  const stack: { v: Json[] | Record<string, Json>; keys: string[] | null; i: number }[] = []
  const open = (v: unknown) => {
    if (v === null || typeof v !== 'object') return void (out += JSON.stringify(v) ?? 'null')
    const keys = Array.isArray(v) ? null : Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    out += keys ? '{' : '['
    stack.push({ v: v as Json[], keys, i: 0 })
  }
  open(value)
  while (stack.length) {
    const top = stack.at(-1)!
    const length = top.keys ? top.keys.length : (top.v as Json[]).length
    if (top.i === length) {
      out += top.keys ? '}' : ']'
      stack.pop()
      continue
    }
    if (top.i > 0) out += ','
    const key = top.keys ? top.keys[top.i]! : null
    top.i++
    if (key !== null) out += `${JSON.stringify(key)}:`
    open(key !== null ? (top.v as Record<string, Json>)[key] : (top.v as Json[])[top.i - 1])
  }
  return out
}
