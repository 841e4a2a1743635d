// The API client: urql over HTTP (the key as a Bearer header) and graphql-ws for subscriptions (the key in
// connectionParams), on the same origin that served the page.
import { createClient as createWsClient } from 'graphql-ws'
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from 'urql'

export interface ApiClient {
  client: Client
  dispose(): void
}

export function createApiClient(key: string, onKeyRefused: () => void): ApiClient {
  const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`
  const ws = createWsClient({
    url: wsUrl,
    lazy: true,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 10,
    // 4403: the key is refused or was revoked; no retry helps
    shouldRetry: (e) => !(e instanceof CloseEvent && e.code === 4403),
    on: {
      closed: (e) => {
        if (e instanceof CloseEvent && e.code === 4403) onKeyRefused()
      },
    },
  })
  const client = new Client({
    url: '/graphql',
    requestPolicy: 'cache-and-network',
    // POST: queries stay out of URLs and request logs
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${key}` } }),
    exchanges: [
      mapExchange({
        onError: (error) => {
          if (error.response?.status === 401 || error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) onKeyRefused()
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => {
          const input = { ...request, query: request.query ?? '' }
          return {
            subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }),
          }
        },
      }),
    ],
  })
  return { client, dispose: () => void ws.dispose() }
}
