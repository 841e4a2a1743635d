// Sign-in with an admin key (labelled "API key"); publisher and wrong keys are told why they cannot.
import { useState } from 'react'
import { checkKey, type Company } from '../session.ts'

export function SignIn({ onSignedIn, message }: { onSignedIn: (key: string, company: Company) => void; message?: string }) {
  const [key, setKey] = useState('')
  const [error, setError] = useState<string | undefined>(message)
  const [busy, setBusy] = useState(false)

  const submit = async (e: React.FormEvent) => {
    e.preventDefault()
    const trimmed = key.trim()
    if (!trimmed) return setError('Enter an API key.')
    setBusy(true)
    const check = await checkKey(trimmed)
    setBusy(false)
    if (check.ok) onSignedIn(trimmed, check.company)
    else setError(check.message)
  }

  return (
    <main className="signin">
      <form onSubmit={submit} className="card" aria-labelledby="signin-title">
        <h1 id="signin-title">Ringhook</h1>
        <p>See why a webhook did or did not fire. Sign in with an admin key of your company.</p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="rh_adm_…"
          aria-describedby={error ? 'signin-error' : 'signin-hint'}
          aria-invalid={error ? true : undefined}
        />
        {error ? (
          <p id="signin-error" className="error" role="alert">
            {error}
          </p>
        ) : (
          <p id="signin-hint" className="hint">
            The first <code>npm start</code> prints the demo company's admin key; <code>npm run cli -- company create "Name"</code> makes another. The key stays
            in this tab only.
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
