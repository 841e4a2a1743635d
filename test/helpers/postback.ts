// Sending postbacks the way publishers do: plain HTTP requests.
export interface HttpAnswer {
  status: number
  headers: Headers
  body: Record<string, any>
}

export async function request(url: string, init?: RequestInit): Promise<HttpAnswer> {
  const res = await fetch(url, init)
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} }
}

export function base(graphqlUrl: string): string {
  return graphqlUrl.replace(/\/graphql$/, '')
}

export const getPostback = (t: { url: string }, query: Record<string, string>, headers: Record<string, string> = {}) =>
  request(`${base(t.url)}/postback?${new URLSearchParams(query)}`, { headers })

export const postJson = (t: { url: string }, path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(`${base(t.url)}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
