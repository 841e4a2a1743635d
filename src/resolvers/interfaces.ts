import type { Db } from '../db/client.js'
import type { PubSub } from '../events/bus.js'

/** What the operations in resolvers/ work with; transports (GraphQL, REST, jobs) pass it in. */
export interface Services {
  db: Db
  pubsub: PubSub
}

export type TagSource = 'POSTBACK' | 'WEBHOOK' | 'CALL_EVENT' | 'API'

export interface TagInput {
  key: string
  value: string
}

export type CallStatus = 'STARTED' | 'ANSWERED' | 'ENDED'
