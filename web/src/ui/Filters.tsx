// A filter form whose values live in the URL query: applying it is a navigation, so a filtered log is a link.
import { useState } from 'react'
import { useSearchParams } from 'wouter'
import { fromLocalInput, isApiTime, toLocalInput } from './Time.tsx'

export type Choice = readonly [value: string, text: string]

export type FilterField =
  | { name: string; label: string; kind: 'text'; placeholder?: string }
  | {
      name: string
      label: string
      kind: 'select'
      options: readonly Choice[]
      /** said under the select, e.g. that it lists only some */
      hint?: string
      /** the words for a value the URL holds that is not among the options */
      unlisted?: (value: string) => string
    }
  | { name: string; label: string; kind: 'time' }

/**
 * What in the URL's filters the API would refuse (a time that is not one, a value a fixed list does not
 * have), in words: the page says so and asks nothing while there is any.
 */
export function filterProblems(params: URLSearchParams, fields: FilterField[]): string[] {
  const problems: string[] = []
  for (const f of fields) {
    const value = params.get(f.name)
    if (!value) continue
    if (f.kind === 'time' && !isApiTime(value)) problems.push(`${f.label}: “${value}” is not a time.`)
    if (f.kind === 'select' && !f.unlisted && !f.options.some(([v]) => v === value)) problems.push(`${f.label}: “${value}” is not among its choices.`)
  }
  return problems
}

export function FilterForm({ fields, label }: { fields: FilterField[]; label: string }) {
  const [params, setParams] = useSearchParams()
  const problems = filterProblems(params, fields)
  const initial = () => Object.fromEntries(fields.map((f) => [f.name, f.kind === 'time' ? toLocalInput(params.get(f.name)) : (params.get(f.name) ?? '')]))
  const [values, setValues] = useState<Record<string, string>>(initial)
  const [shown, setShown] = useState(params.toString())
  // the URL changed from elsewhere (a link, back): show what it says
  if (shown !== params.toString()) {
    setShown(params.toString())
    setValues(initial())
  }

  const apply = (next: Record<string, string>) => {
    const p = new URLSearchParams()
    for (const f of fields) {
      const v = next[f.name]?.trim()
      if (!v) continue
      const value = f.kind === 'time' ? fromLocalInput(v) : v
      if (value) p.set(f.name, value)
    }
    setParams(p)
  }

  return (
    <form
      className="filters"
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault()
        apply(values)
      }}
    >
      {fields.map((f) => {
        const id = `filter-${f.name}`
        const common = {
          id,
          name: f.name,
          value: values[f.name] ?? '',
          onChange: (e: { target: { value: string } }) => setValues({ ...values, [f.name]: e.target.value }),
        }
        return (
          <div className="field" key={f.name}>
            <label htmlFor={id}>{f.label}</label>
            {f.kind === 'select' ? (
              <>
                <select {...common} aria-describedby={f.hint ? `${id}-hint` : undefined}>
                  <Choices options={f.options} value={common.value} unlisted={f.unlisted} />
                </select>
                {f.hint && (
                  <span className="hint" id={`${id}-hint`}>
                    {f.hint}
                  </span>
                )}
              </>
            ) : f.kind === 'time' ? (
              <input type="datetime-local" {...common} />
            ) : (
              <input type="search" placeholder={f.placeholder} {...common} />
            )}
          </div>
        )
      })}
      {problems.length > 0 && (
        <div className="error filter-problems" role="alert">
          <p>This address holds filters the log cannot apply; pick them again below, or Clear them:</p>
          <ul>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="actions">
        <button type="submit">Apply</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            const cleared = Object.fromEntries(fields.map((f) => [f.name, '']))
            setValues(cleared)
            apply(cleared)
          }}
        >
          Clear
        </button>
      </div>
    </form>
  )
}

/**
 * A select's options: Any, the choices, and the value it holds even when that is not among them (a link
 * may name what the page did not load), so the select shows what is applied, never Any in its place.
 */
export function Choices({ options, value, unlisted = (v) => v }: { options: readonly Choice[]; value: string; unlisted?: (value: string) => string }) {
  const listed = !value || options.some(([v]) => v === value)
  return (
    <>
      <option value="">Any</option>
      {!listed && <option value={value}>{unlisted(value)}</option>}
      {options.map(([v, text]) => (
        <option key={v} value={v}>
          {text}
        </option>
      ))}
    </>
  )
}
