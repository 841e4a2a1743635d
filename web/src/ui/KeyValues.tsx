// Key:value pairs (a postback's tags, the tags a response wrote) as a two-column table.
export function KeyValues({ pairs }: { pairs: [string, unknown][] }) {
  return (
    <table className="kv">
      <tbody>
        {pairs.map(([k, v]) => (
          <tr key={k}>
            <th scope="row" className="mono">
              {k}
            </th>
            <td className="mono">{String(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
