// The store ports' contract suites (test/contract/), run by the backend of this pass: the embedded SQLite
// in the SQLite pass, PostgreSQL in the PostgreSQL pass.
import { openBackend } from './contract/backends.js'
import { callEventStoreContract } from './contract/callEventStore.js'
import { pixelStoreContract } from './contract/pixelStore.js'
import { postbackStoreContract } from './contract/postbackStore.js'

callEventStoreContract(openBackend)
pixelStoreContract(openBackend)
postbackStoreContract(openBackend)
