// The signed-in admin key: kept in sessionStorage (gone when the tab closes), never put in a URL.
const STORAGE_KEY = 'ringhook.apiKey'

export interface Company {
  id: string
  name: string
}

export type KeyCheck = { ok: true; company: Company } | { ok: false; message: string }

export const storedKey = (): string | null => sessionStorage.getItem(STORAGE_KEY)
export const storeKey = (key: string) => sessionStorage.setItem(STORAGE_KEY, key)
export const forgetKey = () => sessionStorage.removeItem(STORAGE_KEY)

export const PUBLISHER_KEY_MESSAGE =
  'This is a publisher key. Publisher keys can only send postbacks; they cannot use the dashboard. Sign in with an admin key of your company.'
export const WRONG_KEY_MESSAGE = 'This API key is not valid: it is mistyped, or it was revoked.'

/** Asks the API who the key belongs to, and says in words why it cannot sign in when it cannot. */
export async function checkKey(key: string): Promise<KeyCheck> {
  let res: Response
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ company { id name } }' }),
    })
  } catch {
    return { ok: false, message: 'Ringhook could not be reached. Is the server running?' }
  }
  const body = (await res.json().catch(() => null)) as {
    data?: { company?: Company } | null
    errors?: { message: string; extensions?: { code?: string } }[]
  } | null
  const code = body?.errors?.[0]?.extensions?.code
  if (res.status === 401 || code === 'UNAUTHENTICATED') return { ok: false, message: WRONG_KEY_MESSAGE }
  if (code === 'FORBIDDEN') return { ok: false, message: PUBLISHER_KEY_MESSAGE }
  if (body?.data?.company) return { ok: true, company: body.data.company }
  return { ok: false, message: body?.errors?.[0]?.message ?? `Ringhook answered HTTP ${res.status}.` }
}
