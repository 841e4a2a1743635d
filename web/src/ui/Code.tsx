// Payloads as a person reads them: JSON pretty-printed, anything else as it came.

/** JSON text pretty-printed; null when the text is not JSON. */
export function prettyJson(text: string): string | null {
  const trimmed = text.trim()
  if (!trimmed || !'{["'.includes(trimmed[0]!)) return null
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2)
  } catch {
    return null
  }
}

export function JsonBlock({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre className="code" data-label={label}>
      {value === undefined ? '' : JSON.stringify(value, null, 2)}
    </pre>
  )
}

/** A body as received or sent: pretty JSON when it parses, the raw text otherwise (empty said in words). */
export function BodyBlock({ text, label }: { text: string | null | undefined; label?: string }) {
  if (text == null || text === '') return <p className="muted">(empty body)</p>
  const pretty = prettyJson(text)
  return (
    <pre className="code" data-label={label}>
      {pretty ?? text}
    </pre>
  )
}

/** Headers as name: value lines. */
export function HeadersBlock({ headers }: { headers: unknown }) {
  const entries: [string, string][] = Array.isArray(headers)
    ? (headers as { name: string; value: string }[]).map((h) => [h.name, h.value])
    : headers && typeof headers === 'object'
      ? Object.entries(headers as Record<string, unknown>).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])
      : []
  if (!entries.length) return <p className="muted">(no headers)</p>
  return (
    <table className="kv">
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td className="mono">{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
