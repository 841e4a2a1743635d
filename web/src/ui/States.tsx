// Loading, empty and error states, and the API's error messages in words.
import type { CombinedError } from 'urql'

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status">
      {what}…
    </p>
  )
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="empty">{children}</p>
}

/** The API's message(s), or the network failure, in words. */
export function errorText(error: CombinedError | Error | string): string {
  if (typeof error === 'string') return error
  if ('graphQLErrors' in error && error.graphQLErrors.length) return error.graphQLErrors.map((e) => e.message).join('; ')
  if ('networkError' in error && error.networkError) return `Ringhook could not be reached: ${error.networkError.message}`
  return error.message
}

export function ErrorNote({ error }: { error: CombinedError | Error | string | null | undefined }) {
  if (!error) return null
  return (
    <p className="error" role="alert">
      {errorText(error)}
    </p>
  )
}

/** BAD_USER_INPUT errors by the input field they name (extensions.field), e.g. `headers[1].name`. */
export function fieldErrors(error: CombinedError | null | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of error?.graphQLErrors ?? []) {
    const field = e.extensions?.field
    if (typeof field === 'string') out[field.replace(/^input\./, '')] = e.message
  }
  return out
}
