import type DataLoader from 'dataloader'
import type { Tag } from '../generated/prisma/client.js'
import type { Auth } from '../resolvers/authenticate.js'
import type { Services } from '../resolvers/interfaces.js'

export interface Loaders {
  /** `${callId}\u0000${key}` -> the tag, batched across a page of calls */
  tagByCallAndKey: DataLoader<string, Tag | null>
}

export interface Context {
  services: Services
  auth: Auth
  loaders: Loaders
}
